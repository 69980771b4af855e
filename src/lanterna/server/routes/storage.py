"""Upload storage routes (``/storage/uploads``): the only files ``upload_file`` can put in a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from lanterna.errors import InvalidRequestError, PayloadTooLargeError
from lanterna.server.auth import CurrentRuntime, Tenant
from lanterna.store.uploads import name_problem
from lanterna.wire import ErrorBody, FileListResponse, FileUploadResponse

_CHUNK_BYTES = 256 * 1024
_FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and part headers around the file

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or revoked API key"},
    413: {"model": ErrorBody, "description": "Over the per-file or per-key size or file-count cap"},
    422: {"model": ErrorBody, "description": "Not an allowed file name, no 'file' part, no Content-Length"},
}

router = APIRouter(prefix="/storage", tags=["storage"], responses=_ERRORS)


async def _parts(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(_CHUNK_BYTES):
        yield chunk


@router.post("/uploads/{name:path}", response_model=FileUploadResponse)
async def upload(name: str, request: Request, runtime: CurrentRuntime, tenant: Tenant) -> FileUploadResponse:
    """Store a file under ``name`` for ``upload_file`` (which then takes ``file_path: name``).

    Send it as multipart form data in a part named ``file`` (as notte's ``client.files.upload``
    does) or as the raw body. A file of the same name is replaced.
    """
    problem = name_problem(name)
    if problem:
        raise InvalidRequestError(problem)
    storage = runtime.uploads
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        length = request.headers.get("content-length", "")
        if not length.isdigit():  # the form parser spools the whole body: bound it first
            raise InvalidRequestError("send a multipart upload with a Content-Length header")
        if int(length) > storage.max_file_bytes + _FORM_OVERHEAD_BYTES:
            raise PayloadTooLargeError(storage.file_too_large())
        form = await request.form(max_files=1, max_fields=10)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise InvalidRequestError("the multipart body has no part named 'file'; send the file as 'file'")
        info = await storage.save(tenant, name, _parts(file))
    else:
        info = await storage.save(tenant, name, request.stream())
    return FileUploadResponse(success=True, file=info)


@router.get("/uploads", response_model=FileListResponse)
async def list_uploads(runtime: CurrentRuntime, tenant: Tenant) -> FileListResponse:
    """Your uploaded files, by name."""
    return FileListResponse(files=runtime.uploads.list(tenant))
