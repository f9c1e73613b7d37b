export * from './signed-registry';
export * from './trust-policy';
export * from './image-verifier-function';
export * from './ecs-admission-hook';
export * from './task-launch-audit';
export * from './eks-admission-webhook';
export * from './signed-images-dashboard';
