/** The plugins in the project's model of Kong 3.9.3, by name. A plugin the project starts using needs its model here. */
import { correlationId } from './correlation-id.js';
import { cors } from './cors.js';
import { jwt } from './jwt.js';
import type { PluginModel } from './model.js';
import { opentelemetry } from './opentelemetry.js';
import { prometheus } from './prometheus.js';
import { rateLimiting } from './rate-limiting.js';
import { requestSizeLimiting } from './request-size-limiting.js';
import { responseTransformer } from './response-transformer.js';

export const PLUGIN_MODELS: Record<string, PluginModel> = {
  jwt,
  'rate-limiting': rateLimiting,
  'request-size-limiting': requestSizeLimiting,
  'correlation-id': correlationId,
  cors,
  opentelemetry,
  prometheus,
  'response-transformer': responseTransformer,
};
