#!/usr/bin/python3
"""The small Fashion-MNIST image folder data/fashion-photos: grey photos for `sinapse train --images` and `transfer --images`.

How to run (from the repository root):

    apt-get install -y dataset-fashion-mnist     # Zalando's IDX files in /usr/share/datasets/fashion-mnist
    /usr/bin/python3 tools/make_fashion_photos.py [--source DIR] [--train 200] [--test 100]

What it writes, replacing data/fashion-photos/train and data/fashion-photos/test:

    train/<k>-<class>/<index>.png    the first --train images of class k in the training file
    test/<k>-<class>/<index>.png     the first --test images of class k in the test (t10k) file

<index> is the image's position (0-based, 5 digits) in its IDX file, so every PNG can be traced
back to the source. Class folders are prefixed with the label so that sorting them by name (as
ImageFolder does) gives Fashion-MNIST's own numbering. The PNGs are 28×28 8-bit greyscale, the
pixels exactly as stored (0 = background), written with the standard library alone (zlib at
level 9, no filter), so the same source gives byte-identical files. It prints the MD5 of each
source file (uncompressed) for data/fashion-photos/README.md.
"""

import argparse
import gzip
import hashlib
import os
import shutil
import struct
import zlib

CLASSES = ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:], hashlib.md5(data).hexdigest()


def png(width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def write_split(source, prefix, count, output):
    (n, height, width), images, images_md5 = read_idx(os.path.join(source, prefix + "-images-idx3-ubyte.gz"))
    (labels_n,), labels, labels_md5 = read_idx(os.path.join(source, prefix + "-labels-idx1-ubyte.gz"))
    assert n == labels_n, f"{n} images but {labels_n} labels"
    print(f"{images_md5}  {prefix}-images-idx3-ubyte")
    print(f"{labels_md5}  {prefix}-labels-idx1-ubyte")
    shutil.rmtree(output, ignore_errors=True)
    taken = [0] * len(CLASSES)
    plane = height * width
    for index in range(n):
        label = labels[index]
        if taken[label] == count:
            continue
        folder = os.path.join(output, f"{label}-{CLASSES[label]}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{index:05d}.png"), "wb") as f:
            f.write(png(width, height, images[index * plane:(index + 1) * plane]))
        taken[label] += 1
        if min(taken) == count:
            break
    assert min(taken) == count, f"{prefix}: only {taken} images per class"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--train", type=int, default=200, help="training images per class")
    parser.add_argument("--test", type=int, default=100, help="test images per class")
    parser.add_argument("--output", default="data/fashion-photos")
    args = parser.parse_args()
    write_split(args.source, "train", args.train, os.path.join(args.output, "train"))
    write_split(args.source, "t10k", args.test, os.path.join(args.output, "test"))


if __name__ == "__main__":
    main()
