"""Squash image layers into one filesystem with per-path history, and view it at the top or at any layer.

Every path keeps a chain of versions (newest first), one per layer that wrote or deleted it; contents are
kept only for paths a cataloger wants. Whiteouts (``.wh.NAME``), opaque dirs (``.wh..wh..opq``), replaced
files and hard links follow the OCI layer rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from vulnhound.sources.content import SMALL, Content, ContentStore, InPlace
from vulnhound.sources.interface import FileMeta, FileView, SourceError, ViewError, normalize, resolve_links
from vulnhound.sources.tarstream import TarReader

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DEFAULT_MAX_CAPTURE = 256 << 20
# Metadata is kept for every entry; a tar of millions of empty files would otherwise exhaust memory.
DEFAULT_MAX_ENTRIES = 2_000_000


class Node:
    """One version of one path. ``kind``: file, dir, symlink, hardlink, other (device/fifo) or deleted."""

    __slots__ = ("at", "content", "kind", "layer", "link", "mode", "prev", "size", "target")

    def __init__(self, kind: str, layer: int, prev: Node | None, size: int = 0, mode: int = 0o644,
                 link: str | None = None) -> None:
        self.kind = kind
        self.layer = layer
        self.prev = prev
        self.size = size
        self.mode = mode
        self.link = link  # symlink target as written, or the hard link's target path (normalized)
        self.content: Content | None = None
        self.target: Node | None = None  # hard links: the version of the file they link to
        self.at = -1  # files of in-place layers: where the body starts in the blob's file


class ImageFS:
    """The squashed filesystem of an image with every path's history."""

    def __init__(self, diff_ids: Sequence[str], store: ContentStore, max_capture: int = DEFAULT_MAX_CAPTURE,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.diff_ids = list(diff_ids)
        self.max_entries = max_entries
        self.entries = 0
        self.store = store
        self.max_capture = max_capture
        self.nodes: dict[str, Node] = {"": Node("dir", -1, None, mode=0o755)}
        self.children: dict[str, set[str]] = {"": set()}
        self.wanted_links: list[str] = []  # wanted paths that are links: their targets may need a second pass
        self.warnings: list[str] = []
        self.in_place_bytes = 0

    # -- applying layers ---------------------------------------------------------------------------------
    def apply(self, idx: int, reader: TarReader, wants: Callable[[str], bool],
              in_place: tuple[str, int] | None = None) -> None:
        """First pass over layer ``idx``: record every entry, capture wanted contents.

        ``in_place`` (file, offset of the blob in it) says the layer is an uncompressed blob on local disk:
        large wanted bodies are then referenced there instead of copied."""
        for entry in reader:
            self.entries += 1
            if self.entries > self.max_entries:
                raise SourceError(f"layer {self.diff_ids[idx]}: more than {self.max_entries} entries in the image; "
                                  "refused (a metadata bomb?)")
            path = normalize(entry.name)
            if not path:
                continue
            parent, _, base = path.rpartition("/")
            if base.startswith(WHITEOUT):
                self._mkdirs(parent, idx)
                if base == OPAQUE:
                    self._make_opaque(parent, idx)
                else:
                    self._delete(f"{parent}/{base[4:]}" if parent else base[4:], idx)
                continue
            head = self._current(path)
            if entry.kind == "dir":
                if head is not None and head.kind == "dir":
                    head.mode = entry.mode
                    continue
            elif head is not None and head.kind == "dir":
                self._delete_children(path, idx)
            self._mkdirs(parent, idx)
            node = self._push(path, entry.kind, idx, size=entry.size, mode=entry.mode)
            if entry.kind == "file":
                if in_place is not None:
                    node.at = in_place[1] + reader.offset
                if entry.size <= self.max_capture and wants(path):
                    node.content = self._capture(reader, entry.size, in_place)
            elif entry.kind == "symlink":
                node.link = entry.linkname
                if wants(path):
                    self.wanted_links.append(path)
            elif entry.kind == "hardlink":
                self._link_hard(node, normalize(entry.linkname))
                if wants(path):
                    self.wanted_links.append(path)

    def _capture(self, reader: TarReader, size: int, in_place: tuple[str, int] | None) -> Content:
        if in_place is not None and size > SMALL:
            self.in_place_bytes += size
            return InPlace(in_place[0], in_place[1] + reader.offset, size)
        return self.store.put(reader, size)

    def capture(self, idx: int, reader: TarReader, paths: set[str], in_place: tuple[str, int] | None = None) -> None:
        """Second pass over layer ``idx``: capture contents of ``paths`` (link targets nobody wanted directly)."""
        for entry in reader:
            if entry.kind != "file":
                continue
            path = normalize(entry.name)
            if path not in paths:
                continue
            node = self.nodes.get(path)
            while node is not None and node.layer > idx:
                node = node.prev
            if node is not None and node.layer == idx and node.kind == "file" and entry.size <= self.max_capture:
                node.content = self._capture(reader, entry.size, in_place)

    def capture_at(self, idx: int, paths: set[str], in_place: tuple[str, int],
                   read_at: Callable[[int, int], bytes]) -> None:
        """``capture`` for an in-place layer without reading it again: bodies are where ``apply`` saw them.
        ``read_at(offset, n)`` reads the blob's file."""
        for path in paths:
            node = self.nodes.get(path)
            while node is not None and node.layer > idx:
                node = node.prev
            if (node is not None and node.layer == idx and node.kind == "file" and node.size <= self.max_capture
                    and node.at >= 0):
                if node.size > SMALL:
                    self.in_place_bytes += node.size
                    node.content = InPlace(in_place[0], node.at, node.size)
                else:
                    node.content = self.store.put(_Body(read_at, node.at, node.size), node.size)

    def _current(self, path: str) -> Node | None:
        node = self.nodes.get(path)
        return None if node is None or node.kind == "deleted" else node

    def _push(self, path: str, kind: str, idx: int, size: int = 0, mode: int = 0o644) -> Node:
        prev = self.nodes.get(path)
        if prev is not None and prev.layer == idx:
            prev = prev.prev  # the same path twice in one layer: the later entry wins
        node = Node(kind, idx, prev, size=size, mode=mode)
        self.nodes[path] = node
        if prev is None:
            parent, _, base = path.rpartition("/")
            self.children.setdefault(parent, set()).add(base)
        return node

    def _mkdirs(self, path: str, idx: int) -> None:
        if not path:
            return
        head = self._current(path)
        if head is not None and head.kind == "dir":
            return
        self._mkdirs(path.rpartition("/")[0], idx)
        self._push(path, "dir", idx, mode=0o755)

    def _link_hard(self, node: Node, target_path: str) -> None:
        node.link = target_path
        target = self._current(target_path)
        if target is not None and target.kind == "hardlink":
            target = target.target
        if target is not None and target.kind == "file":
            node.target = target
            node.size = target.size

    def _delete(self, path: str, idx: int) -> None:
        head = self._current(path)
        if head is None:
            return
        if head.kind == "dir":
            self._delete_children(path, idx)
        self._push(path, "deleted", idx)

    def _delete_children(self, path: str, idx: int) -> None:
        for name in list(self.children.get(path, ())):
            self._delete(f"{path}/{name}" if path else name, idx)

    def _make_opaque(self, path: str, idx: int) -> None:
        """Hide everything lower layers put under ``path``; keep what this layer already wrote there."""
        for name in list(self.children.get(path, ())):
            child = f"{path}/{name}" if path else name
            head = self._current(child)
            if head is None:
                continue
            if head.layer < idx:
                self._delete(child, idx)
            elif head.kind == "dir":
                self._make_opaque(child, idx)

    # -- queries -----------------------------------------------------------------------------------------
    def version(self, path: str, upto: int) -> Node | None:
        node = self.nodes.get(path)
        while node is not None and node.layer > upto:
            node = node.prev
        return None if node is None or node.kind == "deleted" else node

    def layer_index(self, diff_id: str) -> int:
        for i in range(len(self.diff_ids) - 1, -1, -1):
            if self.diff_ids[i] == diff_id:
                return i
        raise ViewError(f"no layer {diff_id} in this image")

    def missing_link_targets(self) -> dict[int, set[str]]:
        """Layers to re-read, and which paths to capture there, so wanted links resolve to contents."""
        top = LayeredView(self, len(self.diff_ids) - 1)
        todo: dict[int, set[str]] = {}
        for path in self.wanted_links:
            node = self.version(path, top.upto)
            if node is None:
                continue
            if node.kind == "hardlink":
                target = node.target
                real = node.link
            else:
                try:
                    real = top.resolve(path)
                except (FileNotFoundError, ViewError):
                    continue
                target = self.version(real, top.upto)
            if target is None or real is None or target.kind != "file" or target.content is not None:
                continue
            todo.setdefault(target.layer, set()).add(real)
        return todo


class _Body:
    """A member body at a known offset, read in order (what ``ContentStore.put`` consumes)."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int, size: int) -> None:
        self.read_at = read_at
        self.pos = offset
        self.end = offset + size

    def read_body(self, n: int) -> bytes:
        data = self.read_at(self.pos, min(n, self.end - self.pos))
        self.pos += len(data)
        return data


class LayeredView(FileView):
    """The image filesystem as it stood right after layer ``upto`` (the top layer for the image's view)."""

    def __init__(self, fs: ImageFS, upto: int) -> None:
        self.fs = fs
        self.upto = upto

    def _meta(self, path: str, node: Node) -> FileMeta:
        layer = self.fs.diff_ids[node.layer] if node.layer >= 0 else None
        if node.kind == "hardlink":
            size = node.target.size if node.target else 0
            return FileMeta(path, size, "hardlink", link_target=node.link, mode=node.mode, layer=layer)
        return FileMeta(path, node.size, node.kind if node.kind != "other" else "file", link_target=node.link,
                        mode=node.mode, layer=layer)

    def iter_files(self) -> Iterator[FileMeta]:
        for path in self.fs.nodes:
            node = self.fs.version(path, self.upto)
            if node is not None and node.kind in ("file", "symlink", "hardlink"):
                yield self._meta(path, node)

    def iter_paths(self) -> Iterator[str]:
        """The paths of ``iter_files`` without building their metadata (the engine asks ``meta`` for wanted
        files only)."""
        version = self.fs.version
        for path in self.fs.nodes:
            node = version(path, self.upto)
            if node is not None and node.kind in ("file", "symlink", "hardlink"):
                yield path

    def meta(self, path: str) -> FileMeta | None:
        p = normalize(path)
        node = self.fs.version(p, self.upto)
        return None if node is None else self._meta(p, node)

    def resolve(self, path: str) -> str:
        return resolve_links(path, self._probe)

    def _probe(self, path: str) -> tuple[str, str | None] | None:
        node = self.fs.version(path, self.upto)
        return None if node is None else (node.kind, node.link)

    def open(self, path: str) -> BinaryIO:
        real = self.resolve(path)
        node = self.fs.version(real, self.upto)
        if node is None or node.kind not in ("file", "hardlink"):
            raise FileNotFoundError(path)
        if node.kind == "hardlink":
            if node.target is None:
                raise FileNotFoundError(f"{path}: hard link to {node.link}, which is not in the image")
            node = node.target
        if node.content is None:
            raise ViewError(f"{path}: content not captured (no cataloger wanted it, or larger than "
                            f"{self.fs.max_capture} bytes)")
        return self.fs.store.open(node.content)

    def listdir(self, path: str) -> list[str]:
        try:
            real = self.resolve(path)
        except (FileNotFoundError, ViewError):
            return []
        prefix = f"{real}/" if real else ""
        return sorted(n for n in self.fs.children.get(real, ()) if self.fs.version(prefix + n, self.upto))

    def layers(self) -> Sequence[str]:
        return self.fs.diff_ids[: self.upto + 1]

    def layer_history(self, path: str) -> Sequence[str]:
        p = normalize(path)
        node = self.fs.nodes.get(p)
        layers: list[str] = []
        while node is not None:
            if 0 <= node.layer <= self.upto:
                layers.append(self.fs.diff_ids[node.layer])
            node = node.prev
        return layers[::-1]

    def at_layer(self, diff_id: str) -> FileView:
        return LayeredView(self.fs, self.fs.layer_index(diff_id))
