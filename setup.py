"""The package list of flushscope's wheel, found rather than written out (everything else is in pyproject.toml).

pyproject.toml's own discovery (``[tool.setuptools.packages.find]``) names a package after its folder under
one root. The resources sit beside ``app/``, in ``resources/``, and install as ``flushscope._resources`` (see
``package-dir``): a name that no folder has. So both are found here, every package under ``app/`` and every
folder under ``resources/`` (named under ``flushscope._resources``), and a new one is in the wheel without
being listed anywhere.
"""

from setuptools import find_namespace_packages, find_packages, setup

RESOURCES = "flushscope._resources"

setup(
    packages=[
        *find_packages("app"),
        RESOURCES,
        *(f"{RESOURCES}.{name}" for name in find_namespace_packages("resources")),
    ]
)
