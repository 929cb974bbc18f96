export { register, DEFAULT_IGNORE_PATHS, type RegisterOptions, type AuditHandle } from './register';
export { setAuditContext, type AuditContext } from './context';
export { AuditSampler } from './sampler';
