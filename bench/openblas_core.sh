# Sourced by the benchmark scripts: `coretype`, OpenBLAS's kernels for this CPU (Debian's OpenBLAS
# misdetects it), by linsim's own rule (src/linalg/gemm.cc): AVX-512 F/BW/DQ/VL -> SkylakeX,
# AVX2 + FMA -> Haswell, else none; OPENBLAS_CORETYPE, when set, chooses it.
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { local f; for f; do [[ "$cpu_flags" == *" $f "* ]] || return 1; done; }
if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then coretype=$OPENBLAS_CORETYPE
elif has avx512f avx512bw avx512dq avx512vl; then coretype=SkylakeX
elif has avx2 fma; then coretype=Haswell
else coretype=""; fi
