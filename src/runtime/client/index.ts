// The dynamic client (any kind by apiVersion/kind) and the wire types it speaks.
export { Client, PatchType, kindOf } from './client.ts'
export type { ListOptions, WriteOptions } from './client.ts'
export { RestClient } from './rest-client.ts'
export type { Query, RequestOptions } from './rest-client.ts'
export { ApiError, isApiError, isConflict, isGone, isNotFound } from './api-error.ts'
export type { StatusBody } from './api-error.ts'
export { objectKey, splitApiVersion } from './objects.ts'
export type { KObject, KindRef, ObjectList, ObjectMeta, OwnerReference, Resource } from './objects.ts'
