"""A new key file appears whole or not at all: a running service that notices the keys directory
change and re-reads it must never load a half-written PEM (a 500 on every request until the
next re-read)."""
import os

import pytest

from ms_token.keys import _KEY_FILE, create_key, load_key_ring


class ReadsHalfway:
    """A file handle whose write stops halfway for ``reader()``: a service re-reading the
    directory at the worst moment."""

    def __init__(self, handle, reader):
        self.handle, self.reader = handle, reader

    def write(self, data):
        half = len(data) // 2
        self.handle.write(data[:half])
        self.handle.flush()
        self.reader()
        return half + self.handle.write(data[half:])

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self.handle.__exit__(*exc_info)


def test_a_reader_during_the_write_sees_the_old_keys_not_a_half_written_one(tmp_path, monkeypatch):
    first = create_key("billing", tmp_path)
    seen = []
    real_fdopen = os.fdopen

    def read_keys():
        seen.append([key.kid for key in load_key_ring("billing", tmp_path).keys])

    def fdopen(fd, *args, **kwargs):
        return ReadsHalfway(real_fdopen(fd, *args, **kwargs), read_keys)

    monkeypatch.setattr(os, "fdopen", fdopen)
    second = create_key("billing", tmp_path)
    monkeypatch.undo()

    assert seen == [[first.kid]]
    assert [key.kid for key in load_key_ring("billing", tmp_path).keys] == [first.kid, second.kid]


def test_only_the_key_files_are_left_private(tmp_path):
    key = create_key("billing", tmp_path)
    names = [path.name for path in (tmp_path / "billing").iterdir()]
    assert names == [f"{key.kid}.pem"]
    assert (tmp_path / "billing" / names[0]).stat().st_mode & 0o777 == 0o600


def test_a_failed_link_leaves_no_temporary_file(tmp_path, monkeypatch):
    def taken(source, destination):
        raise FileExistsError(destination)

    monkeypatch.setattr(os, "link", taken)
    with pytest.raises(FileExistsError):
        create_key("billing", tmp_path)
    monkeypatch.undo()
    assert list((tmp_path / "billing").iterdir()) == []


def test_the_temporary_name_is_not_a_key_file_name(tmp_path, monkeypatch):
    names = []
    real_link = os.link

    def link(source, destination):
        names.append(os.path.basename(source))
        real_link(source, destination)

    monkeypatch.setattr(os, "link", link)
    create_key("billing", tmp_path)
    monkeypatch.undo()
    assert len(names) == 1 and not _KEY_FILE.fullmatch(names[0])


def test_a_key_added_in_the_same_clock_tick_as_the_last_read_is_still_picked_up(tmp_path, settings):
    from ms_token.keys import _CachedKeyRing

    settings.MS_TOKEN = {**settings.MS_TOKEN, "KEYS_DIR": tmp_path}
    first = create_key("billing", tmp_path)
    cached = _CachedKeyRing()
    cached.check_interval = 0  # check the directory at every call
    assert cached.get("billing").signing_key.kid == first.kid
    directory = tmp_path / "billing"
    stamp = directory.stat()
    second = create_key("billing", tmp_path)
    os.utime(directory, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # as if in the same tick
    assert [key.kid for key in cached.get("billing").keys] == [first.kid, second.kid]
