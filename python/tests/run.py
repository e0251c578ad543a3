"""Runs the Python package's tests with pytest; exit 77 (ctest: skipped) when pytest, numpy, scipy
or pandas is missing, naming it (scripts/install-deps.sh --test installs them)."""
import importlib.util
import sys

missing = [name for name in ("pytest", "numpy", "scipy", "pandas") if importlib.util.find_spec(name) is None]
if missing:
    print(f"skipped: {', '.join(missing)} not installed for {sys.executable} "
          "(Debian: python3-pytest python3-numpy python3-scipy python3-pandas)")
    sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(sys.argv[1:]))
