#!/usr/bin/python3
"""The CIFAR-10 subset in data/cifar10-subset: real 32×32 colour photos for `sinapse train --images`
and `sinapse transfer`.

How to run (from the repository root), with the full CIFAR-10 as JPEG files unpacked somewhere:

    tar xzf cifar10-jpeg.tar.gz -C /tmp        # gives /tmp/cifar10-jpeg/{train,test}/<class>/NNNN.jpg
    /usr/bin/python3 tools/make_cifar10_subset.py /tmp/cifar10-jpeg [--train 500] [--test 100]

What it writes, replacing data/cifar10-subset/train and data/cifar10-subset/test:

    train/<class>/NNNN.jpg    the first --train files of each class of the source's train/, by name
    test/<class>/NNNN.jpg     the first --test files of each class of the source's test/, by name
    SHA256SUMS                the SHA-256 of every file written, in `sha256sum` format, sorted by path

The JPEG files are copied byte for byte (no re-encoding), so their names trace them back to the
source and the same source gives the same subset and manifest.
"""

import argparse
import hashlib
import os
import shutil

OUTPUT = os.path.join("data", "cifar10-subset")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the unpacked cifar10-jpeg folder, holding train/ and test/")
    parser.add_argument("--train", type=int, default=500, help="training images per class")
    parser.add_argument("--test", type=int, default=100, help="test images per class")
    args = parser.parse_args()
    lines = []
    for split, count in (("train", args.train), ("test", args.test)):
        target = os.path.join(OUTPUT, split)
        shutil.rmtree(target, ignore_errors=True)
        for name in sorted(os.listdir(os.path.join(args.source, split))):
            folder = os.path.join(args.source, split, name)
            files = sorted(f for f in os.listdir(folder) if f.endswith(".jpg"))[:count]
            if len(files) < count:
                raise SystemExit(f"{folder} has {len(files)} images, fewer than {count}")
            os.makedirs(os.path.join(target, name))
            for file in files:
                shutil.copyfile(os.path.join(folder, file), os.path.join(target, name, file))
                with open(os.path.join(target, name, file), "rb") as f:
                    lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {split}/{name}/{file}\n")
    lines.sort(key=lambda line: line[66:])
    with open(os.path.join(OUTPUT, "SHA256SUMS"), "w") as f:
        f.writelines(lines)
    print(f"{len(lines)} files in {OUTPUT}")


if __name__ == "__main__":
    main()
