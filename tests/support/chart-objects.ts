import type { K8sObject } from './tools.js';

/** The objects of one kind in a render (tests/static/chart.test.ts, chart-toggles.test.ts). */
export const find = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
