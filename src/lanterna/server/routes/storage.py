"""Storage routes: uploads (``/storage/uploads``, the only files ``upload_file`` can put in a page)
and each session's downloads (``/storage/{session_id}/downloads``), kept after it ends."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from lanterna.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError
from lanterna.server.auth import CurrentRuntime, Tenant
from lanterna.store.uploads import name_problem
from lanterna.wire import ErrorBody, FileLinkResponse, FileListResponse, FileUploadResponse

_CHUNK_BYTES = 256 * 1024
_FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and part headers around the file

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
}
_SENT_FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Over the per-file or per-key size or file-count cap"},
    422: {"model": ErrorBody, "description": "Not an allowed file name, no 'file' part, no Content-Length"},
}
_NO_SESSION: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such session of yours, or no such file of it"},
}

router = APIRouter(prefix="/storage", tags=["storage"], responses=_ERRORS)


async def _parts(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(_CHUNK_BYTES):
        yield chunk


async def _file_content(request: Request, max_bytes: int, too_large: str) -> AsyncIterator[bytes]:
    """The sent file: the part named ``file`` of a multipart form, else the raw body."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return request.stream()
    length = request.headers.get("content-length", "")
    if not length.isdigit():  # the form parser spools the whole body: bound it first
        raise InvalidRequestError("send a multipart upload with a Content-Length header")
    if int(length) > max_bytes + _FORM_OVERHEAD_BYTES:
        raise PayloadTooLargeError(too_large)
    form = await request.form(max_files=1, max_fields=10)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise InvalidRequestError("the multipart body has no part named 'file'; send the file as 'file'")
    return _parts(file)


@router.post("/uploads/{name:path}", response_model=FileUploadResponse, responses=_SENT_FILE_ERRORS)
async def upload(name: str, request: Request, runtime: CurrentRuntime, tenant: Tenant) -> FileUploadResponse:
    """Store a file under ``name`` for ``upload_file`` (which then takes ``file_path: name``).

    Send it as multipart form data in a part named ``file`` (as notte's ``client.files.upload``
    does) or as the raw body. A file of the same name is replaced.
    """
    problem = name_problem(name)
    if problem:
        raise InvalidRequestError(problem)
    storage = runtime.uploads
    content = await _file_content(request, storage.max_file_bytes, storage.file_too_large())
    return FileUploadResponse(success=True, file=await storage.save(tenant, name, content))


@router.get("/uploads", response_model=FileListResponse)
async def list_uploads(runtime: CurrentRuntime, tenant: Tenant) -> FileListResponse:
    """Your uploaded files, by name."""
    return FileListResponse(files=runtime.uploads.list(tenant))


# --- session downloads -------------------------------------------------------------------------

LINK_TTL_S = 600  # a download link works this long (also across a restart)


def _signature(secret: bytes, tenant: str, session_id: str, name: str, expires: int) -> str:
    message = "\n".join((tenant, session_id, name, str(expires))).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _no_download(session_id: str, name: str) -> NotFoundError:
    return NotFoundError(
        f"session '{session_id}' has no download named {name[:60]!r}; "
        f"GET /storage/{session_id}/downloads lists them"
    )


@router.get("/{session_id}/downloads", response_model=FileListResponse, responses=_NO_SESSION)
async def list_downloads(session_id: str, runtime: CurrentRuntime, tenant: Tenant) -> FileListResponse:
    """The files the session downloaded; kept after it ends (until retention)."""
    return FileListResponse(files=await runtime.sessions.downloaded_files(tenant, session_id))


@router.get("/{session_id}/downloads/{name:path}", response_model=FileLinkResponse, responses=_NO_SESSION)
async def download_link(
    session_id: str, name: str, request: Request, runtime: CurrentRuntime, tenant: Tenant
) -> FileLinkResponse:
    """A link to one downloaded file, valid for 10 minutes (across a server restart too) and
    without an API key (as notte's ``client.files.download`` fetches it)."""
    if (
        name_problem(name) is not None
        or await runtime.sessions.downloaded_file(tenant, session_id, name) is None
    ):
        raise _no_download(session_id, name)
    expires = int(time.time()) + LINK_TTL_S
    signature = _signature(runtime.link_secret, tenant, session_id, name, expires)
    query = urlencode({"tenant": tenant, "expires": expires, "signature": signature})
    url = f"{str(request.base_url).rstrip('/')}/storage/links/{session_id}/{quote(name, safe='')}?{query}"
    return FileLinkResponse(url=url)


@router.post(
    "/{session_id}/downloads/{name:path}",
    response_model=FileUploadResponse,
    responses={
        **_SENT_FILE_ERRORS,
        **_NO_SESSION,
        409: {"model": ErrorBody, "description": "The session has ended; its downloads are final"},
    },
)
async def add_download(
    session_id: str, name: str, request: Request, runtime: CurrentRuntime, tenant: Tenant
) -> FileUploadResponse:
    """Add a file to a running session's downloads, as if its browser had downloaded it (notte's
    ``client.files.upload_downloaded_file``): listed and fetched with them, kept with them when
    the session ends, and offered to ``upload_file``. Multipart part ``file`` or the raw body; a
    download of the same name is replaced."""
    problem = name_problem(name)
    if problem:
        raise InvalidRequestError(problem)
    await runtime.sessions.live(tenant, session_id)  # 404 / 409 before reading any body
    storage = runtime.downloads
    content = await _file_content(request, storage.max_file_bytes, storage.file_too_large())
    info = await runtime.sessions.add_download(tenant, session_id, name, content)
    return FileUploadResponse(success=True, file=info)


@router.get("/links/{session_id}/{name}", include_in_schema=False)
async def fetch_download(
    session_id: str, name: str, tenant: str, expires: int, signature: str, runtime: CurrentRuntime
) -> Response:
    """The file behind a link from ``download_link``; 404 for a wrong, altered or expired link."""
    expected = _signature(runtime.link_secret, tenant, session_id, name, expires)
    if expires < time.time() or not hmac.compare_digest(expected, signature):
        raise NotFoundError("this download link is wrong or expired; ask for a new one")
    content = await runtime.sessions.downloaded_file(tenant, session_id, name)
    if content is None:
        raise _no_download(session_id, name)
    return Response(content, media_type="application/octet-stream")
