import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CloudFrontServiceException, DistributionNotDisabled, NoSuchDistribution } from '@aws-sdk/client-cloudfront'
import { AwsServiceError, statusForAwsCode, translateAwsError } from '../../src/aws/errors.js'
import { toErrorResponse } from '../../src/http/error-response.js'

const metadata = { httpStatusCode: 404, requestId: 'req-1' }

describe('statusForAwsCode', () => {
  it("maps CloudFront's codes to the service's answers", () => {
    const cases: Array<[string, number | undefined, number]> = [
      ['NoSuchDistribution', 404, 404],
      ['NoSuchResource', 404, 404],
      ['DistributionNotDisabled', 409, 409],
      ['CNAMEAlreadyExists', 409, 409],
      ['KeyGroupAlreadyExists', 409, 409],
      ['CloudFrontOriginAccessIdentityInUse', 409, 409],
      ['ResourceInUse', 409, 409],
      ['PreconditionFailed', 412, 412],
      ['Throttling', 400, 429],
      ['SlowDown', 503, 429],
      ['InvalidArgument', 400, 400],
      ['InvalidIfMatchVersion', 400, 400],
      ['TooManyDistributionCNAMEs', 400, 400],
      ['IllegalUpdate', 400, 400],
      ['InconsistentQuantities', 400, 400],
      ['MissingBody', 400, 400],
      ['TrustedKeyGroupDoesNotExist', 400, 400],
      ['AccessDenied', 403, 403],
      ['BatchTooLarge', 413, 413],
      ['ServiceUnavailable', 503, 502],
      ['InternalError', 500, 502],
      ['GatewayTimeout', 504, 504],
      ['SomethingNew', 400, 400],
    ]
    for (const [code, upstream, expected] of cases) assert.equal(statusForAwsCode(code, upstream), expected, code)
  })
})

describe('translateAwsError', () => {
  it("keeps CloudFront's code and message for client errors, with the status the table gives", () => {
    const err = translateAwsError(new NoSuchDistribution({ message: 'The specified distribution does not exist.', $metadata: metadata }), 'GetDistribution')
    assert.ok(err instanceof AwsServiceError, 'err instanceof AwsServiceError')
    assert.deepEqual(toErrorResponse(err), { statusCode: 404, code: 'NoSuchDistribution', error: 'Not Found', message: 'The specified distribution does not exist.' })
    const conflict = translateAwsError(new DistributionNotDisabled({ message: 'not disabled', $metadata: { httpStatusCode: 409 } }), 'DeleteDistribution')
    assert.equal(toErrorResponse(conflict).statusCode, 409)
  })

  it('gives throttling a Retry-After, from AWS when it says one', () => {
    const throttled = (headers: Record<string, string>) =>
      translateAwsError(
        Object.assign(new CloudFrontServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }), { $response: { headers } }),
        'ListDistributions',
      )
    assert.equal(throttled({}).details?.retryAfterSeconds, 1)
    assert.equal(throttled({ 'retry-after': '7' }).details?.retryAfterSeconds, 7)
    assert.equal(toErrorResponse(throttled({})).statusCode, 429)
  })

  it('answers upstream failures with a generic message that holds nothing of the request', () => {
    const err = translateAwsError(
      Object.assign(new CloudFrontServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'AKIDSECRET Signature=abc', $metadata: { httpStatusCode: 503 } })),
      'GetDistribution',
    )
    assert.deepEqual(toErrorResponse(err), { statusCode: 502, code: 'ServiceUnavailable', error: 'Bad Gateway', message: 'AWS failed GetDistribution (503)' })
  })

  it('names timeouts, unreachable endpoints, missing credentials and anything else with its own codes', () => {
    const codeOf = (err: unknown) => translateAwsError(err, 'ListDistributions').code
    assert.equal(codeOf(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })), 'UPSTREAM_TIMEOUT')
    assert.equal(codeOf(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), 'UPSTREAM_UNAVAILABLE')
    assert.equal(codeOf(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' })), 'AWS_CREDENTIALS_UNAVAILABLE')
    assert.equal(codeOf(new TypeError('boom')), 'UPSTREAM_ERROR')
    assert.equal(toErrorResponse(translateAwsError(new TypeError('boom'), 'X')).statusCode, 502)
  })
})
