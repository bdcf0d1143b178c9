"""MNIST and Fashion-MNIST from their IDX files (torchvision's class names and arguments).

Where the files are looked for, in order:
  1. `root`, when given (also root/<name>/ and torchvision's root/<Class>/raw/), and nothing else;
  2. $PYFASTNN_DATA/<name>/, then ~/.cache/pyfastnn/<name>/ (the cache);
  3. the Debian package's folder, /usr/share/datasets/<name>/ (`apt install dataset-fashion-mnist`);
  4. a download into the cache, when download=True and the network allows (short timeout).
Each file may be gzipped (.gz) or not.
"""

import os
import tempfile
import urllib.request

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset
from .idx import read_idx

__all__ = ["MNIST", "FashionMNIST", "data_home"]

DEBIAN_DIR = "/usr/share/datasets"
_TIMEOUT = 10.0  # seconds per HTTP request: offline fails fast


def data_home():
    """The cache folder: $PYFASTNN_DATA, else ~/.cache/pyfastnn."""
    return os.environ.get("PYFASTNN_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "pyfastnn")


def _find(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _download(url, dest):
    """Fetch url into dest atomically (a partial file never takes dest's name)."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as resp:
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        read_idx(tmp)  # a proxy's error page is not an IDX file: refuse it here
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class _IDXImages(Dataset):
    """Images (N, 28, 28) uint8 in .data and labels (N,) int64 in .targets.

    dataset[i] is (image, label): the image as float32 (1, 28, 28) in [0, 1], or what
    `transform` makes of the uint8 (1, 28, 28) image (see pyfastnn.data.transforms); the
    label as an int64 scalar, or target_transform(label). A DataLoader batches it a whole
    batch at a time when the transform handles batches (every transform in
    pyfastnn.data.transforms does). arrays() gives (x, y) for fit in one go."""

    name = None  # folder name: cache, Debian package and $PYFASTNN_DATA
    debian_package = None
    mirrors = ()
    classes = ()
    _FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root=None, train=True, download=True, transform=None, target_transform=None):
        self.root, self.train = root, bool(train)
        self.transform, self.target_transform = transform, target_transform
        images, labels = (read_idx(p) for p in self._locate(download))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: images {images.shape} and labels {labels.shape} do not match "
                             "(expected (N, H, W) and (N,))")
        self.data = images.astype(np.uint8, copy=False)
        self.targets = labels.astype(np.int64)

    # ---- where the files are ----
    def _folders(self):
        if self.root is not None:
            root = os.fspath(self.root)
            return [root, os.path.join(root, self.name), os.path.join(root, type(self).__name__, "raw")]
        folders = [os.path.join(data_home(), self.name)]
        if self.debian_package:
            folders.append(os.path.join(DEBIAN_DIR, self.name))
        return folders

    def _locate(self, download):
        stems = self._FILES[self.train]
        folders = self._folders()
        for folder in folders:
            paths = [_find(folder, s) for s in stems]
            if all(paths):
                return paths
        errors = []
        if download and self.root is None and self.mirrors:
            dest = os.path.join(data_home(), self.name)
            for mirror in self.mirrors:
                try:
                    paths = []
                    for stem in stems:
                        path = _find(dest, stem) or os.path.join(dest, stem + ".gz")
                        if not os.path.isfile(path):
                            _download(mirror + stem + ".gz", path)
                        paths.append(path)
                    return paths
                except (OSError, ValueError) as e:  # URLError and timeouts are OSErrors
                    errors.append(f"{mirror}: {e}")
        raise FileNotFoundError(self._missing_message(folders, download, errors))

    def _missing_message(self, folders, download, errors):
        cls = type(self).__name__
        files = ", ".join(s + "[.gz]" for s in self._FILES[self.train])
        lines = [f"{cls}: the {'training' if self.train else 'test'} files ({files}) were not found in "
                 + ", ".join(folders) + "."]
        if errors:
            lines.append("Downloading failed (no network?): " + "; ".join(errors))
        elif self.root is None and not download:
            lines.append("download=False, so nothing was downloaded.")
        lines.append("To get them:")
        if self.debian_package:
            lines.append(f"  - on Debian/Ubuntu: sudo apt install {self.debian_package}   (installs into "
                         f"{DEBIAN_DIR}/{self.name})")
        if self.mirrors:
            lines.append(f"  - download the four .gz files from {self.mirrors[0]} into "
                         f"{os.path.join(data_home(), self.name)} (or any folder, then pass root=that folder)")
        lines.append("  - or pass root= a folder that holds them (`pyfastnn train --data-dir`; set PYFASTNN_DATA to "
                     "move the cache)")
        return "\n".join(lines)

    # ---- Dataset ----
    def __len__(self):
        return len(self.data)

    def _images(self, index):
        img = self.data[index]
        img = img[..., None, :, :]  # (1, H, W) or (N, 1, H, W): the channel dim transforms expect
        if self.transform is None:
            return img.astype(np.float32) / np.float32(255)
        return self.transform(img)

    def __getitem__(self, index):
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: index must be an int, got {type(index).__name__}")
        x = self._images(int(index))
        y = self.targets[index]
        if self.target_transform is not None:
            y = self.target_transform(y)
        return _wrap(x), _wrap(y)

    def take(self, indices):
        """A whole batch at once (DataLoader's fast path); None when a transform handles only
        single samples, so the loader falls back to one sample at a time."""
        if self.transform is not None and not getattr(self.transform, "batched", False):
            return None
        if self.target_transform is not None:
            return None
        indices = np.asarray(indices)
        return _wrap(self._images(indices)), _wrap(self.targets[indices])

    def arrays(self, flatten=False):
        """(x, y): x float32 (N, 1, 28, 28) in [0, 1] ((N, 784) when flatten), y int64 (N,);
        the transform is not applied."""
        x = self.data.astype(np.float32) / np.float32(255)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return x, self.targets.copy()

    def __repr__(self):
        return (f"{type(self).__name__}(split={'train' if self.train else 'test'}, samples={len(self)}, "
                f"image={tuple(self.data.shape[1:])}, classes={len(self.classes)})")


def _wrap(x):
    if isinstance(x, Tensor):
        return x
    return Tensor._wrap(np.asarray(x))


class MNIST(_IDXImages):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, 10 classes."""

    name = "mnist"
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine")


class FashionMNIST(_IDXImages):
    """Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothing, 28x28,
    10 classes; Debian ships it as the package dataset-fashion-mnist."""

    name = "fashion-mnist"
    debian_package = "dataset-fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
