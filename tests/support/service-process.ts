import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * The service as a real process (`records serve` under tsx), for what only a process shows:
 * signals, exit codes and its log output. Log lines are collected as parsed JSON.
 */
export class ServiceProcess {
  readonly logs: Array<Record<string, unknown>> = [];
  readonly rawOutput: string[] = [];
  baseUrl = '';
  exitCode: Promise<number | null>;
  private readonly child: ChildProcess;

  private constructor(env: Record<string, string>, preload: string[], root: string, compiled: boolean, nodeFlags: string[]) {
    // Under tsx, tsx first: the preloaded modules are TypeScript too.
    const preloads = preload.flatMap((module) => ['--import', module]);
    const args = compiled ? [...nodeFlags, ...preloads, 'service/dist/main.js'] : [...nodeFlags, '--import', 'tsx', ...preloads, 'service/src/main.ts'];
    this.child = spawn(process.execPath, [...args, 'serve'], {
      cwd: root,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', AUTH_MODE: 'disabled', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exitCode = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream! }).on('line', (line) => {
        this.rawOutput.push(line);
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not a JSON line */
        }
      });
    }
  }

  /**
   * `preload`: modules imported before the service, as the image's entrypoint imports tracing.
   * `root`: the checkout to run (another release's, for the upgrade test); this one by default.
   * `compiled`: run service/dist as the image does (built on first use: buildService) rather than the source under tsx.
   * `nodeFlags`: node's own flags, before everything else (the image's: tooling/image-node.ts).
   */
  static async start(
    env: Record<string, string>,
    { preload = [], root = process.cwd(), compiled = false, nodeFlags = [] }: { preload?: string[]; root?: string; compiled?: boolean; nodeFlags?: string[] } = {},
  ): Promise<ServiceProcess> {
    if (compiled) buildService();
    const service = new ServiceProcess(env, preload, root, compiled, nodeFlags);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const listening = service.logs.find((line) => line.msg === 'listening');
      if (listening) {
        service.baseUrl = `http://127.0.0.1:${listening.port}`;
        return service;
      }
      if (service.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    service.child.kill('SIGKILL');
    throw new Error(`service did not start:\n${service.rawOutput.join('\n')}`);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exitCode;
  }
}

let built = false;

/**
 * Compiles the service to service/dist (`npm run build`), for ServiceProcess's `compiled`: once
 * per mocha process, which sees one version of the sources (not under `mocha --watch`).
 */
export function buildService(): void {
  if (built) return;
  const result = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'service/tsconfig.build.json'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the service failed:\n${result.stdout}${result.stderr}`);
  built = true;
}
