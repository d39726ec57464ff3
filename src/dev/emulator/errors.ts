/** An error the emulated service answers with; each service renders it in its own XML shape. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra elements some S3 errors carry, e.g. BucketName or Key. */
    readonly details: Record<string, string> = {},
  ) {
    super(message)
  }
}

export function invalidArgument(message: string): ApiError {
  return new ApiError('InvalidArgument', 400, message)
}
