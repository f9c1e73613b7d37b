export * from './signed-registry';
export * from './trust-policy';
export { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
export { AdmissionMode, EcsAdmissionHook, EcsAdmissionHookProps, InconclusiveAction } from './ecs-admission-hook';
export { TaskLaunchAudit, TaskLaunchAuditProps } from './task-launch-audit';
