/**
 * The Kong release this model follows, and the image tag kong/values.yaml deploys (a test holds
 * them equal; Renovate moves both in one pull request). Moving it means reading that release's
 * schemas again and updating the model where they changed.
 */
export const KONG_MODEL_VERSION = '3.9.3';
