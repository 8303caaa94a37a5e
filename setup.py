"""Build basketmine's Cython kernels (cext/) into the package.

Compiler directives live here and only here.  Set BASKETMINE_DEBUG=1 for a
bounds-checked, unoptimised debug build.
"""
import os
import platform

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("BASKETMINE_DEBUG", "0") not in ("", "0")

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "nonecheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}

CFLAGS = ["-O0", "-g"] if DEBUG else ["-O3"]
if platform.machine().lower() in ("x86_64", "amd64"):
    CFLAGS.append("-mpopcnt")

KERNELS = ["_encode", "_itemsets", "_rules", "_sequences"]

extensions = [
    Extension(
        f"basketmine.{name}",
        [f"cext/{name}.pyx"],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
        extra_compile_args=CFLAGS,
    )
    for name in KERNELS
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES))
