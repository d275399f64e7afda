/**
 * The environments the project deploys, the one list: each has its Kong config
 * (kong/environments/), its kubectl overlay (k8s/overlays/), its Argo CD root and values
 * (argocd/root/, argocd/apps/values-<env>.yaml) and its database (argocd/database/).
 */
export const ENVIRONMENTS = ['staging', 'production'] as const;

export type Environment = (typeof ENVIRONMENTS)[number];

export const isEnvironment = (name: string | undefined): name is Environment => ENVIRONMENTS.some((environment) => environment === name);
