"""Build hook: ship ontology/, shapes/ and data/ inside the wheel as package data.

The repository keeps them at the top level (see DESIGN.md); an installed
package finds them under ``s22a/_resources`` instead (see ``s22a.resources``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCE_DIRS = ("ontology", "shapes", "data")


class BuildWithResources(build_py):
    """Copy the top-level resource folders into the built package."""

    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "s22a" / "_resources"
        for name in RESOURCE_DIRS:
            destination = target / name
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(root / name, destination)


setup(cmdclass={"build_py": BuildWithResources})
