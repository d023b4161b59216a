"""Receiving the upload form without ever holding more than the size limit.

A Content-Length over the limit is refused before a byte of the body is read; a body without
one (chunked) is counted as it arrives and cut off at the limit. Starlette's parser spools the
file part to a temporary file, so memory stays at about one chunk.
"""
from __future__ import annotations

from fastapi import Request

FORM_OVERHEAD = 64 * 1024  # multipart boundaries, the CSRF token and the message
MAX_TEXT_FIELD = 16 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the file is larger than the {limit / 1024 / 1024:g} MB this competition accepts")


async def read_upload_form(request: Request, limit: int):
    """The parsed multipart form, or UploadTooLarge once the body exceeds `limit` plus the form's overhead."""
    allowed = limit + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > allowed:
        raise UploadTooLarge(limit)
    received = 0

    async def counting_receive():
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > allowed:
            raise UploadTooLarge(limit)
        return message

    counted = Request(request.scope, counting_receive)
    form = await counted.form(max_files=1, max_fields=8, max_part_size=MAX_TEXT_FIELD)
    upload = form.get("file")
    if getattr(upload, "size", None) is not None and upload.size > limit:
        raise UploadTooLarge(limit)  # within the overhead allowance, yet over the file limit itself
    return form
