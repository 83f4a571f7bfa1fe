r"""MNIST's IDX file format, read with NumPy alone (plain or gzip-compressed), and the MNIST loader.

An IDX file is a header followed by the data, both big-endian:

- two zero bytes;
- one byte giving the type of the values: ``0x08`` unsigned byte, ``0x09`` signed byte, ``0x0B`` 16-bit integer,
  ``0x0C`` 32-bit integer, ``0x0D`` 32-bit float, ``0x0E`` 64-bit float;
- one byte giving the number of dimensions :math:`k`;
- :math:`k` 32-bit big-endian integers, the size of each dimension;
- the :math:`\prod_i d_i` values in C order.

MNIST is not bundled (and nothing is downloaded): point ``load_mnist`` at a folder holding the four files.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .split import Split

__all__ = ["IDX_DTYPES", "MNIST_FILES", "load_mnist", "read_idx"]

#: The IDX type codes and the big-endian NumPy dtypes they stand for.
IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The standard names of MNIST's four files (each may also end in ``.gz``).
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike[str]) -> NDArray[Any]:
    """Read an IDX file (the format of MNIST) into a NumPy array, decompressing it first if it is gzip.

    Compression is recognised by the gzip magic bytes ``1f 8b``, not by the file name. The header is checked
    against the file's length, so a truncated download or a wrong file is reported, not silently misread.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    numpy.ndarray
        The values with the shape the header gives, in native byte order (``uint8`` for MNIST's images and labels).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not valid IDX: a corrupt gzip stream, non-zero magic bytes, an unknown type code, a
        truncated header or data, or bytes left after the data. The message names the file and the problem.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from lossopt_companion.datasets import read_idx
    >>> header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "tiny-idx2-ubyte"
    ...     _ = path.write_bytes(header + bytes(range(6)))
    ...     read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip stream ({error})") from None
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated header: an IDX file starts with 4 bytes, the file has {len(raw)}")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file: the first two bytes must be 0, got {raw[0]:#04x} {raw[1]:#04x}")
    code, n_dims = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"{c:#04x} ({d.name})" for c, d in IDX_DTYPES.items())
        raise ValueError(f"{path}: unknown IDX type code {code:#04x}; expected one of {known}")
    header_size = 4 + 4 * n_dims
    if len(raw) < header_size:
        raise ValueError(
            f"{path}: truncated header: {n_dims} dimensions need {header_size} header bytes, the file has {len(raw)}"
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=n_dims, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header_size
    if found < expected:
        raise ValueError(
            f"{path}: truncated data: the header announces shape {shape} of {dtype.name} ({expected} bytes), "
            f"but only {found} bytes follow"
        )
    if found > expected:
        raise ValueError(
            f"{path}: {found - expected} trailing bytes after the {expected} bytes of data the header announces "
            f"(shape {shape} of {dtype.name})"
        )
    values = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(path: str | os.PathLike[str], *, scale: bool = True, dtype: DTypeLike = np.float32) -> Split:
    """Load MNIST from the four standard IDX files in a local folder (plain or ``.gz``; nothing is downloaded).

    Parameters
    ----------
    path : str or os.PathLike
        The folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
        and ``t10k-labels-idx1-ubyte`` (each possibly with a ``.gz`` suffix).
    scale : bool, default True
        Divide the pixel intensities (0-255) by 255 into [0, 1].
    dtype : float32 or float64, default float32
        The dtype of the images (float32 halves the memory of the 60,000 x 784 training images).

    Returns
    -------
    Split
        The official split: 60,000 training and 10,000 test images flattened to 784 columns, labels int64 0-9.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the four files is missing (the message lists the expected names).
    ValueError
        If a file is not valid IDX, or images and labels do not fit together.
    """
    folder = Path(path)
    found: dict[str, Path] = {}
    for name in MNIST_FILES:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    missing = [name for name in MNIST_FILES if name not in found]
    if missing:
        raise FileNotFoundError(
            f"MNIST files missing in {str(folder)!r}: {missing}. load_mnist expects the four files "
            f"{list(MNIST_FILES)} (each optionally ending in .gz) in that folder"
        )
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a float dtype, got {dtype}")
    parts = []
    for images_name, labels_name in ((MNIST_FILES[0], MNIST_FILES[1]), (MNIST_FILES[2], MNIST_FILES[3])):
        images, labels = read_idx(found[images_name]), read_idx(found[labels_name])
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{found[images_name]} and {found[labels_name]} do not fit: expected images of shape (n, rows, "
                f"columns) and n labels, got {images.shape} and {labels.shape}"
            )
        X = images.reshape(images.shape[0], -1).astype(dtype)
        if scale:
            X /= 255
        parts.append((X, labels.astype(np.int64)))
    (X_train, y_train), (X_test, y_test) = parts
    return Split(X_train, X_test, y_train, y_test, None, tuple(str(digit) for digit in range(10)))
