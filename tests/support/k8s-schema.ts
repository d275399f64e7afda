import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { K8sObject } from './tools.js';

/**
 * Two checks per object:
 * 1. the kubernetes-models class for its apiVersion/kind validates types, required fields and
 *    enums (core kinds from kubernetes-models, CRDs from @kubernetes-models/{keda,argo-cd,
 *    prometheus-operator});
 * 2. for built-in kinds, a walk over @kubernetes/client-node's attribute maps rejects fields the
 *    API does not have, as `kubeconform -strict` does (the models accept unknown fields).
 */

const CRD_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'argoproj.io': '@kubernetes-models/argo-cd',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

function modelModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  if (group === '') return `kubernetes-models/${version}/${kind}`;
  const crdPackage = CRD_PACKAGES[group];
  if (crdPackage) return `${crdPackage}/${group}/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

export function isBuiltIn(apiVersion: string): boolean {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group !== undefined && !(group in CRD_PACKAGES);
}

const CLIENT_MODELS = resolve('node_modules/@kubernetes/client-node/dist/gen/models');
type Attribute = { baseName: string; type: string };
const attributeMaps = new Map<string, Attribute[] | null>();

async function attributesOf(typeName: string): Promise<Attribute[] | null> {
  if (!attributeMaps.has(typeName)) {
    try {
      const module = (await import(pathToFileURL(`${CLIENT_MODELS}/${typeName}.js`).href)) as Record<string, { getAttributeTypeMap(): Attribute[] }>;
      attributeMaps.set(typeName, module[typeName]?.getAttributeTypeMap() ?? null);
    } catch {
      attributeMaps.set(typeName, null);
    }
  }
  return attributeMaps.get(typeName) ?? null;
}

const OPAQUE = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

async function unknownFields(value: unknown, typeName: string, path: string, found: string[]): Promise<void> {
  if (value === null || value === undefined || OPAQUE.has(typeName)) return;
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (Array.isArray(value)) for (const [index, item] of value.entries()) await unknownFields(item, array[1] as string, `${path}[${index}]`, found);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (typeof value === 'object') for (const [key, item] of Object.entries(value)) await unknownFields(item, map[1] as string, `${path}.${key}`, found);
    return;
  }
  const attributes = await attributesOf(typeName);
  if (attributes === null) {
    found.push(`${path}: no field list for type ${typeName}`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return; // a type error, reported by the model
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    if (!attribute) found.push(`${path}.${key}: unknown field`);
    else await unknownFields(item, attribute.type, `${path}.${key}`, found);
  }
}

function clientTypeName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1) as string;
  return `V${version.slice(1)}${kind}`;
}

/** Returns the problems found in `object` (empty when it is valid). */
async function validateObject(object: K8sObject): Promise<string[]> {
  const where = `${object.kind}/${object.metadata?.name}`;
  const problems: string[] = [];
  let Model: new (data: unknown) => { validate(): void };
  try {
    const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, typeof Model>;
    Model = module[object.kind] as typeof Model;
    if (!Model) throw new Error('no model');
  } catch {
    return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  if (isBuiltIn(object.apiVersion)) {
    const unknown: string[] = [];
    await unknownFields(object, clientTypeName(object.apiVersion, object.kind), where, unknown);
    problems.push(...unknown);
  }
  return problems;
}

export async function validateAll(objects: K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(validateObject))).flat();
}

/** Fields of `value` that the Kubernetes type `typeName` (e.g. V1PodSecurityContext) does not have. */
export async function unknownFieldsOf(value: unknown, typeName: string, path: string): Promise<string[]> {
  const found: string[] = [];
  await unknownFields(value, typeName, path, found);
  return found;
}
