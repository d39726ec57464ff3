// Kept while the admin routes and the AWS adapter move: the error table lives in src/http/errors.ts.
export * from './http/errors.js'
