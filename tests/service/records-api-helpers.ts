import { expect } from 'chai';
import type { Engine } from '../../service/src/api/data/database.js';
import { startTestApp, type JsonResponse, type TestApp } from '../support/test-app.js';

export function expectProblem(response: JsonResponse, status: number) {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(response.body).to.include({ status });
  expect(response.body.type).to.be.a('string');
  expect(response.body.title).to.be.a('string');
  expect(response.body.detail).to.be.a('string');
  expect(JSON.stringify(response.body)).not.to.match(/\bat .*\.(ts|js):\d+/);
}

/**
 * The app of the records API suites (records-api*.test.ts): registers, in the calling describe, the
 * before/after hooks that start it on `engine` and close it, and returns accessors to it.
 */
export function useRecordsApp(engine: Engine): { app: () => TestApp; base: () => string } {
  let app: TestApp;
  let base: string;

  before(async function () {
    // At two records per INSERT, a 1 GiB stream's id ranges could outgrow the packet: start-up refuses it.
    app = await startTestApp(engine, { BODY_LIMIT: '64kb', INSERT_BATCH_SIZE: '2', NDJSON_BODY_LIMIT: '4MiB' });
    base = app.baseUrl;
  });
  after(async () => app?.close());

  return { app: () => app, base: () => base };
}
