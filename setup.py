"""Package list for setuptools; everything else is in pyproject.toml.

``models/`` and ``strategies/`` live at the top of the repository but are
installed as ``optimizer.models`` and ``optimizer.strategies`` (the
``package-dir`` mapping in pyproject.toml). ``find_packages`` cannot see a
package that sits outside its parent's folder, so those two are named here.
"""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["optimizer", "optimizer.*"])
      + ["optimizer.models", "optimizer.strategies"])
