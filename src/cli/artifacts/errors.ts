// The artifact server's error catalog (`zlh artifacts serve`): every refusal it answers carries a
// stable code, its HTTP status, a message saying what was wrong and a hint saying what to do, so
// clients (`zlh artifacts publish --upload`) and tests match on codes, not prose. Defined with the
// platform's catalog helper (src/platform/error-catalog.ts). Answers are JSON:
// {"status": 413, "code": "ZLH_ARTIFACTS_TOO_LARGE", "message": "…", "hint": "…"}.
import { defineErrorCatalog } from '../../platform/error-catalog.ts'

export const artifactServerErrors = defineErrorCatalog({
  component: 'artifact-server',
  prefix: 'ZLH_ARTIFACTS_',
  entries: {
    ZLH_ARTIFACTS_UPLOADS_OFF: {
      httpStatus: 405,
      message: 'uploads are off on this artifact server',
      hint: 'start it with --upload-token-file (in the cluster: create the Secret zlh-artifact-upload-token and restart the pod)',
    },
    ZLH_ARTIFACTS_TOKEN_REQUIRED: {
      httpStatus: 401,
      message: 'the upload token is missing or wrong',
      hint: "send Authorization: Bearer <the token in the server's --upload-token-file>",
    },
    ZLH_ARTIFACTS_BAD_NAME: {
      httpStatus: 400,
      message: 'bad file name',
      hint: 'PUT /<name> where name is one path segment of letters, digits, . _ + - (first a letter or digit, at most 255)',
    },
    ZLH_ARTIFACTS_SHA256_REQUIRED: {
      httpStatus: 400,
      message: 'header x-zlh-sha256 is missing or not 64 hex digits',
      hint: 'send the sha256 of the body in x-zlh-sha256',
    },
    ZLH_ARTIFACTS_HASH_MISMATCH: {
      httpStatus: 400,
      message: "the body's sha256 differs from x-zlh-sha256; nothing was stored",
      hint: 'upload the file again',
    },
    ZLH_ARTIFACTS_TOO_LARGE: {
      httpStatus: 413,
      message: "the body is larger than this server's upload limit; nothing was stored",
      hint: 'raise --max-upload-bytes on the server',
    },
    ZLH_ARTIFACTS_STORAGE_FAILED: {
      httpStatus: 507,
      message: 'the upload could not be written to the artifact directory; nothing was stored',
      hint: 'check its free space and permissions',
      retryable: true,
    },
  },
})

export type ArtifactServerErrorCode = keyof typeof artifactServerErrors.entries
