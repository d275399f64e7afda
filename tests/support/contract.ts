import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadOpenApi } from '../../service/src/api/http/docs-router.js';

/**
 * Checks every response the API tests receive against service/openapi.yaml: the status is
 * documented for the operation, the media type is declared, the body matches the schema and
 * declared headers match theirs. A mismatch throws, failing the test that made the request.
 */
export const spec = loadOpenApi() as { paths: Record<string, Record<string, any>>; components: any };
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
ajv.addSchema(spec, 'openapi');

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/** A node of the contract with its $ref followed (a response, a header, a schema). */
export function resolve(node: any): any {
  if (node && typeof node.$ref === 'string') {
    return resolve(node.$ref.slice(2).split('/').reduce((at: any, key: string) => at[key.replaceAll('~1', '/').replaceAll('~0', '~')], spec));
  }
  return node;
}

/** The spec path template that serves `method path`, if any: each path parameter must match its own pattern too. */
function operationOf(method: string, path: string): { template: string; operation: any } | null {
  const bare = path.split('?')[0] as string;
  for (const [template, item] of Object.entries(spec.paths)) {
    const operation = item[method.toLowerCase()];
    if (!operation) continue;
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
    const values = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)').replace(/\/$/, '/?')}$`).exec(bare);
    if (!values) continue;
    // GET /v1/bulk matches /v1/{id} by shape, not by the id's pattern: it is no getRecord.
    const fits = names.every((name, index) => {
      const parameter = (operation.parameters ?? []).map(resolve).find((declared: any) => declared.in === 'path' && declared.name === name);
      const pattern = parameter?.schema?.pattern;
      if (pattern === undefined) return true;
      try {
        return new RegExp(pattern).test(decodeURIComponent(values[index + 1] as string));
      } catch {
        return false;
      }
    });
    if (fits) return { template, operation };
  }
  return null;
}

/** Served beside the API and outside its contract: operations endpoints and the docs (docs/operations.md). */
const OUTSIDE_THE_CONTRACT = /^\/(healthz|readyz|metrics|openapi\.json|docs(\/.*)?|\.well-known\/jwks\.json)$/;
/** The problem types the contract lists (Problem.type's examples), and the `http-<status>` ones it describes. */
const problemTypes = new Set<string>(spec.components.schemas.Problem.properties.type.examples ?? []);
function checkProblemType(where: string, type: string): void {
  if (!problemTypes.has(type) && !/^\/problems\/http-\d{3}$/.test(type)) throw new Error(`contract: ${where}: problem type ${type} is not listed in service/openapi.yaml (Problem.type)`);
}
const problemSchema = () => ajv.getSchema('openapi#/components/schemas/Problem') ?? ajv.compile({ $ref: 'openapi#/components/schemas/Problem' });

export function checkAgainstContract(method: string, path: string, status: number, headers: Headers, body: unknown): void {
  const found = operationOf(method, path);
  if (!found) {
    if (OUTSIDE_THE_CONTRACT.test(path.split('?')[0] as string)) return;
    // Anything else the API does not serve must be refused with a problem document.
    const isProblem = status >= 400 && /^application\/problem\+json/.test(headers.get('content-type') ?? '') && problemSchema()(body);
    if (!isProblem) throw new Error(`contract: ${method} ${path} -> ${status} is not an operation of service/openapi.yaml`);
    checkProblemType(`${method} ${path} -> ${status}`, (body as { type: string }).type);
    return;
  }
  const { template, operation } = found;
  const where = `${method} ${path} -> ${status}`;
  const responseRef = operation.responses[String(status)] ?? operation.responses.default;
  if (!responseRef) throw new Error(`contract: ${where} is not a documented response of ${operation.operationId}`);
  const response = resolve(responseRef);
  const mediaType = (headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const content = response.content?.[mediaType];
  if (!content) throw new Error(`contract: ${where} answered ${mediaType}, not one of ${Object.keys(response.content ?? {}).join(', ')}`);
  const responseKey = operation.responses[String(status)] ? String(status) : 'default';
  const schemaPointer = responseRef.$ref
    ? `${responseRef.$ref.replace('#/', 'openapi#/')}/content/${pointer(mediaType)}/schema`
    : `openapi#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${responseKey}/content/${pointer(mediaType)}/schema`;
  const validate = ajv.getSchema(schemaPointer) ?? ajv.compile({ $ref: schemaPointer });
  if (!validate(body)) throw new Error(`contract: ${where} body does not match ${schemaPointer}: ${ajv.errorsText(validate.errors)}`);
  if (mediaType === 'application/problem+json') checkProblemType(where, (body as { type: string }).type);
  for (const [name, declared] of Object.entries(response.headers ?? {})) {
    const value = headers.get(name);
    const schema = resolve(declared)?.schema;
    if (value !== null && schema && !ajv.validate(schema, value)) throw new Error(`contract: ${where} header ${name}=${value} does not match its schema`);
  }
}
