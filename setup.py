"""Builds the extension with the project's CMake (python/CMakeLists.txt) and installs the package
assembled in the CMake build tree. Options through the environment: LINSIM_CMAKE_ARGS (extra
arguments to cmake, e.g. "-DLINSIM_NATIVE=OFF" for a wheel that runs on other CPUs) and
LINSIM_BUILD_JOBS (parallel jobs; all cores by default), LINSIM_BUILD_DIR (an already configured
build tree of this checkout to build in, instead of a new one: the test of this script uses the
test build's)."""
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(linsim VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("LINSIM_BUILD_DIR") or os.path.abspath(os.path.join(self.build_temp, "cmake"))
        os.makedirs(build, exist_ok=True)
        configure = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DLINSIM_PYTHON=ON",
                     "-DLINSIM_BUILD_TESTS=OFF", "-DLINSIM_BUILD_BENCH=OFF", f"-DPython3_EXECUTABLE={sys.executable}"]
        configure += shlex.split(os.environ.get("LINSIM_CMAKE_ARGS", ""))
        if not os.environ.get("LINSIM_BUILD_DIR"):
            subprocess.run(configure, check=True)
        jobs = os.environ.get("LINSIM_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", build, "--target", "linsim_python", "-j", jobs], check=True)
        package = os.path.join(build, "python", "linsim")
        if not os.path.exists(os.path.join(package, "__init__.py")):
            raise RuntimeError("the CMake build did not produce the Python package (pybind11-dev and python3-dev "
                               "are needed)")
        target = os.path.join(os.path.abspath(self.build_lib), "linsim")
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(package):
            if name.endswith((".py", ".so")) or name == "py.typed":
                shutil.copy2(os.path.join(package, name), os.path.join(target, name))


setup(
    version=version(),
    packages=["linsim"],
    package_dir={"linsim": "python/linsim"},
    package_data={"linsim": ["py.typed"]},
    ext_modules=[Extension("linsim._linsim", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
