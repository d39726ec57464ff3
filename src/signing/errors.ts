/** An error with a stable machine-readable code; the HTTP layer maps codes to statuses in one table. */
export class CodedError extends Error {
  readonly code: string
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'CodedError'
    this.code = code
    this.details = details
  }
}
