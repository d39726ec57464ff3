import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { contentDisposition } from '../../src/signing/download.js'
import { rejectsWith, useEmulator } from './helpers.js'

describe('S3 GetObject', () => {
  const context = useEmulator()

  it('serves the object with its stored headers, and the response-* overrides a download URL carries', async () => {
    const { s3 } = context
    const Bucket = 'download-bucket'
    await s3.send(new CreateBucketCommand({ Bucket }))
    await s3.send(new PutObjectCommand({ Bucket, Key: 'files/cv.pdf', Body: '%PDF-1.4\n', ContentType: 'binary/octet-stream' }))
    const plain = await s3.send(new GetObjectCommand({ Bucket, Key: 'files/cv.pdf' }))
    assert.equal(await plain.Body?.transformToString(), '%PDF-1.4\n')
    assert.deepEqual({ type: plain.ContentType, disposition: plain.ContentDisposition }, { type: 'binary/octet-stream', disposition: undefined })

    const disposition = contentDisposition({ filename: 'Résumé "final" 2026+*.pdf', disposition: 'attachment' })
    const overridden = await s3.send(new GetObjectCommand({ Bucket, Key: 'files/cv.pdf', ResponseContentDisposition: disposition, ResponseContentType: 'application/pdf', ResponseCacheControl: 'private, max-age=60' }))
    assert.deepEqual(
      { type: overridden.ContentType, disposition: overridden.ContentDisposition, cacheControl: overridden.CacheControl },
      { type: 'application/pdf', disposition, cacheControl: 'private, max-age=60' },
    )
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket, Key: 'files/missing.pdf' })), 'NoSuchKey', 404)
  })
})
