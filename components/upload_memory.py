"""Let go of Streamlit's in-memory copy of an uploaded file once it is on disk.

Streamlit keeps every picked file whole in server memory until the session ends (a 117 MB
file: +133 MB). Its own chat input drops a file from the upload manager as soon as it has
been read; this does the same for the file uploader, after the file is saved to disk."""

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile


def release(file: UploadedFile) -> bool:
    """Remove the file's bytes from the upload manager; True when they were held there."""
    ctx = get_script_run_ctx()
    if ctx is None or not isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        return False
    ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file.file_id)
    return True
