import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { running } from '../support/processes.js';
import { settledWithin, waitFor } from '../support/wait.js';

/**
 * scripts/with-test-servers (and the cluster wrappers, through scripts/lib.sh's run_child) stop
 * what they started however the run ends: the command's own end, Ctrl-C, or a TERM sent to the
 * wrapper alone, as a supervisor stops a job. The real servers are started and stopped here.
 */
describe('scripts/with-test-servers', function () {
  this.timeout(90_000);
  /** A wrapper still running when a test failed: its command is stopped, and with it the wrapper. */
  const commands: number[] = [];
  afterEach(function () {
    for (const pid of commands.splice(0)) if (running(pid)) process.kill(pid, 'SIGKILL');
  });

  /** The command each test wraps: prints its servers' work directory and its PID, then sleeps. */
  const SLEEPER = 'echo "command $TEST_SERVERS_DIR $$"; exec sleep 600';
  const serversOf = (dir: string) => ['mariadb/server.pid', 'redis/server.pid', 'prometheus/prometheus.pid'].map((file) => Number(readFileSync(join(dir, file), 'utf8')));

  /** Starts the wrapper around `script` (bash), waits for SLEEPER's line, and checks its servers run. */
  async function startWrapped(detached: boolean, script = SLEEPER) {
    const wrapper = spawn('scripts/with-test-servers', ['bash', '-c', script], { detached, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    wrapper.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => wrapper.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      wrapper.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (/^command /m.test(stdout)) resolve();
      });
      wrapper.on('close', () => reject(new Error(`the wrapper ended before its command ran:\n${stderr}`)));
    });
    const [dir, pid] = (/^command (\S+) (\d+)$/m.exec(stdout) ?? []).slice(1) as [string, string];
    commands.push(Number(pid));
    const servers = serversOf(dir);
    for (const server of servers) expect(running(server), `server ${server}`).to.equal(true);
    return { wrapper, exited, dir, command: Number(pid), servers, stdout: () => stdout };
  }

  /** The wrapper's status once it ended, or a failure naming what still runs after `seconds`. */
  async function endedWithin(exited: Promise<number | null>, seconds: number) {
    const code = await settledWithin(exited, seconds * 1000);
    expect(code, `the wrapper still ran ${seconds} s after the signal`).to.not.equal('late');
    return code;
  }

  it('a TERM sent to the wrapper alone stops its command at once, then the servers (the wrapper used to wait for the command to end by itself)', async function () {
    const { wrapper, exited, dir, command, servers } = await startWrapped(false);
    process.kill(wrapper.pid!, 'SIGTERM');
    expect(await endedWithin(exited, 30)).to.equal(143);
    expect(running(command), 'the command').to.equal(false);
    for (const server of servers) expect(running(server), `server ${server}`).to.equal(false);
    expect(existsSync(dir), 'the work directory').to.equal(false);
  });

  it("a TERM sent to the wrapper alone reaches what its command started too: mocha's launcher passes on only INT, and its test process ran on without the servers", async function () {
    const spec = join(mkdtempSync(join(tmpdir(), 'records-wrapped-mocha-')), 'waits.test.mjs');
    writeFileSync(spec, "it('waits', async () => { console.log(`test process ${process.pid}`); await new Promise((resolve) => setTimeout(resolve, 600_000)); });\n");
    try {
      // A node option makes mocha's launcher run the tests in a process of their own, as make test's do.
      const { wrapper, exited, servers, stdout } = await startWrapped(false, `echo "command $TEST_SERVERS_DIR $$"; exec node_modules/.bin/mocha --no-config --node-option expose-gc --timeout 0 ${spec}`);
      await waitFor('the test process', async () => /^test process \d+$/m.test(stdout()), 30_000, 50);
      const tests = Number(/^test process (\d+)$/m.exec(stdout())![1]);
      commands.push(tests);
      process.kill(wrapper.pid!, 'SIGTERM');
      expect(await endedWithin(exited, 30)).to.equal(143);
      expect(running(tests), "mocha's test process").to.equal(false);
      for (const server of servers) expect(running(server), `server ${server}`).to.equal(false);
    } finally {
      rmSync(dirname(spec), { recursive: true, force: true });
    }
  });

  it("a TERM sent to the wrapper alone while a wrapper inside it cleans up leaves that cleanup to its end, and ends after it (passed down the tree, it stopped the inner wrapper's stop scripts)", async function () {
    // The inner wrapper's command ends at once, so its cleanup (three stop scripts) runs when the TERM comes.
    const { wrapper, exited, servers, stdout } = await startWrapped(false, `echo "command $TEST_SERVERS_DIR $$"; scripts/with-test-servers bash -c 'echo "inner $TEST_SERVERS_DIR $PPID"'; exec sleep 600`);
    await waitFor('the inner command', async () => /^inner \S+ \d+$/m.test(stdout()), 60_000, 5);
    const [innerDir, inner] = (/^inner (\S+) (\d+)$/m.exec(stdout()) ?? []).slice(1) as [string, string];
    const innerServers = serversOf(innerDir);
    process.kill(wrapper.pid!, 'SIGTERM');
    // The outer servers outlive the inner wrapper: the outer cleanup waits for its end.
    let outerAtInnerEnd: boolean[] = [];
    const watch = setInterval(() => {
      if (outerAtInnerEnd.length === 0 && !running(Number(inner))) outerAtInnerEnd = servers.map(running);
    }, 5);
    expect(await endedWithin(exited, 30).finally(() => clearInterval(watch))).to.equal(143);
    expect(outerAtInnerEnd, 'the outer servers when the inner wrapper ended').to.deep.equal(servers.map(() => true));
    for (const server of [...servers, ...innerServers]) expect(running(server), `server ${server}`).to.equal(false);
    expect(existsSync(innerDir), 'the inner work directory').to.equal(false);
  });

  it('Ctrl-C (INT to the whole process group) stops the command and the servers', async function () {
    const { wrapper, exited, dir, command, servers } = await startWrapped(true);
    process.kill(-wrapper.pid!, 'SIGINT');
    expect(await endedWithin(exited, 30)).to.equal(130);
    expect(running(command), 'the command').to.equal(false);
    for (const server of servers) expect(running(server), `server ${server}`).to.equal(false);
    expect(existsSync(dir), 'the work directory').to.equal(false);
  });

  it("a TERM to the whole process group of nested wrappers (as with-cluster runs cluster-inside), and more TERMs during the cleanup, leave each cleanup to its end (one stopped a cleanup with 'unbound variable')", async function () {
    // The bash that prints `outer` becomes the inner wrapper (exec): its PID is the inner wrapper's.
    const { wrapper, exited, dir, command, servers, stdout } = await startWrapped(true, `echo "outer $TEST_SERVERS_DIR $$"; exec scripts/with-test-servers bash -c '${SLEEPER}'`);
    const [outer, inner] = (/^outer (\S+) (\d+)$/m.exec(stdout()) ?? []).slice(1) as [string, string];
    const outerServers = serversOf(outer);
    process.kill(-wrapper.pid!, 'SIGTERM');
    // The outer wrapper passes its TERM on to the inner one, which may be cleaning up by then: TERMs
    // to the inner wrapper all through its cleanup, as many as a supervisor may send.
    const repeat = setInterval(() => {
      if (running(Number(inner))) process.kill(Number(inner), 'SIGTERM');
    }, 20);
    const code = await endedWithin(exited, 30).finally(() => clearInterval(repeat));
    expect(code).to.equal(143);
    expect(running(command), 'the command').to.equal(false);
    for (const server of [...servers, ...outerServers]) expect(running(server), `server ${server}`).to.equal(false);
    expect(existsSync(dir), 'the inner work directory').to.equal(false);
    expect(existsSync(outer), 'the outer work directory').to.equal(false);
  });

  it("a TERM while it starts its servers, and more TERMs during the cleanup that follows, leave that cleanup to its end (the trap that ended the start-up cut it short)", async function () {
    const tmp = mkdtempSync(join(tmpdir(), 'records-starting-'));
    let mariadb: number | undefined;
    const wrapper = spawn('scripts/with-test-servers', ['bash', '-c', 'exec sleep 600'], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
    try {
      const exited = new Promise<number | null>((resolve) => wrapper.on('close', resolve));
      // MariaDB runs, the command has not started: the TERM ends the start-up, then comes the cleanup.
      let work: string | undefined;
      await waitFor('MariaDB to start', async () => (work = readdirSync(tmp).map((name) => join(tmp, name)).find((dir) => existsSync(join(dir, 'mariadb/server.pid')))) !== undefined, 45_000, 5);
      mariadb = Number(readFileSync(join(work as string, 'mariadb/server.pid'), 'utf8'));
      // As many TERMs as a supervisor may send, until the wrapper has ended.
      const repeat = setInterval(() => wrapper.exitCode === null && wrapper.kill('SIGTERM'), 20);
      const code = await endedWithin(exited, 20).finally(() => clearInterval(repeat));
      // What the cut-short cleanup left, before the status (which the old trap also set otherwise).
      expect(running(mariadb), 'MariaDB').to.equal(false);
      expect(readdirSync(tmp), 'the work directory').to.deep.equal([]);
      expect(code).to.equal(143);
    } finally {
      // Failed, the wrapper left MariaDB running: stopped here, before its directory goes.
      if (wrapper.exitCode === null) wrapper.kill('SIGKILL');
      if (mariadb && running(mariadb)) process.kill(mariadb, 'SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("passes its standard input to the command and ends with the command's status", function () {
    const run = spawnSync('scripts/with-test-servers', ['bash', '-c', 'read -r line; echo "read: $line"; exit 3'], { input: 'from stdin\n', encoding: 'utf8' });
    expect(run.stdout, run.stderr).to.equal('read: from stdin\n');
    expect(run.status).to.equal(3);
  });
});

describe("scripts/lib.sh's run_child", function () {
  // A DEBUG trap (inherited by functions under set -T) sends the signal just before run_child starts
  // its command: the window a supervisor's TERM, or Ctrl-C, can fall in.
  const signalledBeforeStart = (signal: 'TERM' | 'INT') => `set -T
. scripts/lib.sh
trap '[[ $BASH_COMMAND == "env --default-signal"* ]] && kill -${signal} $$' DEBUG
status=0
run_child sleep 60 || status=$?
trap - DEBUG
echo "status=$status"`;

  for (const [signal, status] of [['TERM', 143], ['INT', 130]] as const) {
    it(`passes on ${signal} when it came before its command started, so the command does not run on to its end`, function () {
      // The command ran to its end: the signal's trap found no command yet, and nothing told it later.
      const started = Date.now();
      const run = spawnSync('bash', ['-c', signalledBeforeStart(signal)], { encoding: 'utf8', timeout: 30_000 });
      expect(run.stdout.trim(), run.stderr).to.equal(`status=${status}`);
      expect(Date.now() - started, 'ms until run_child returned').to.be.below(10_000);
    });
  }
});

describe("scripts/lib.sh's pass_term", function () {
  it('passes a TERM down the tree to a nested wrapper but not below it: the wrapper passes it on itself, and its cleanup is its own', function () {
    const dir = mkdtempSync(join(tmpdir(), 'records-pass-term-'));
    try {
      // A stand-in named as a wrapper, with a process of its own below it.
      writeFileSync(join(dir, 'with-test-servers'), '#!/usr/bin/env bash\nsleep 600 &\necho "below-the-wrapper $!" >>"$(dirname "$0")/pids"\nwait\n', { mode: 0o755 });
      const run = spawnSync('bash', ['-c', `set -euo pipefail
. scripts/lib.sh
reached=()
bash -c '"$1" & sleep 600 & echo "beside-the-wrapper $!" >>"$2"; wait' parent "$DIR/with-test-servers" "$DIR/pids" &
parent=$!
until [ "$(grep -c . "$DIR/pids" 2>/dev/null)" = 2 ]; do sleep 0.05; done
pass_term "$parent" 1
sleep 0.5
while read -r what pid; do if running "$pid"; then echo "$what running"; kill "$pid"; else echo "$what ended"; fi; done <"$DIR/pids"
echo "reached \${#reached[@]}"`], { encoding: 'utf8', env: { ...process.env, DIR: dir }, timeout: 30_000 });
      expect(run.stdout.trim().split('\n').sort(), run.stderr).to.deep.equal(['below-the-wrapper running', 'beside-the-wrapper ended', 'reached 2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("scripts/lib.sh's stop_process", function () {
  const script = (body: string) => spawnSync('bash', ['-c', `set -euo pipefail; . scripts/lib.sh; dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT; ${body}`], { encoding: 'utf8' });

  it('stops what start_process started, and leaves alone a process that took its PID since', function () {
    const run = script(`
      start_process sleeper sleep 600
      pid=$(cat "$dir/sleeper.pid")
      # Another start recorded: the PID now names a process that is not ours.
      echo 1 >"$dir/sleeper.started"
      stop_process sleeper 5
      running "$pid" && echo "left alone"
      started_at "$pid" >"$dir/sleeper.started"
      stop_process sleeper 5
      running "$pid" || echo "stopped"`);
    expect(run.stdout, run.stderr).to.equal('left alone\nstopped\n');
  });

  it('returns only once a process that ignores TERM is gone (KILL after the grace period)', function () {
    const run = script(`
      start_process stubborn bash -c 'trap "" TERM; echo up; exec sleep 600'
      until grep -q up "$dir/stubborn.log"; do sleep 0.05; done
      pid=$(cat "$dir/stubborn.pid")
      stop_process stubborn 1 2>/dev/null
      running "$pid" && echo "still running" || echo "gone"`);
    expect(run.stdout, run.stderr).to.equal('gone\n');
  });
});
