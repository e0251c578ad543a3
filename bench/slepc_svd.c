/* SLEPc's peer of `linsim-mpi fit --model eq2 --rank K --solver randomized` for bench/mpi.sh: the K
 * largest singular values of a sparse matrix distributed over the MPI ranks.
 *
 *   mpirun -np N slepc_svd -file X.petsc -k 100 -tol 1e-6 [-svd_type ...] [any SLEPc/PETSc option]
 *
 * -file: a PETSc binary AIJ matrix (bench/petsc_binary.py writes one from an interaction TSV),
 *        loaded with MatLoad as MATAIJ, its rows split over the ranks by PETSc's default layout.
 * -k:    number of singular values (default 100).
 * -tol:  linsim's --solver-tol t (default 1e-6). linsim's t bounds each sigma_i^2 to relative
 *        accuracy t, so sigma_i to about t/2 (d(sigma^2)/sigma^2 = 2 d(sigma)/sigma); SLEPc's
 *        tolerance is on the relative residual of each singular triplet, which bounds the error of
 *        sigma_i itself, so it is set to t/2.
 * The solver is thick-restart Lanczos (SVDTRLANCZOS) unless -svd_type says otherwise; every
 * -svd_* option (-svd_ncv, -svd_max_it, -svd_trlanczos_oneside, ...) applies.
 *
 * Prints one JSON line from rank 0:
 *   {"seconds_load", "seconds_solve", "nconv", "sigma": [...], "its", "ranks", "rows", "cols",
 *    "nnz", "tol_sigma", "type", "peak_rss_mb": [one per rank]}
 * seconds_load is MatLoad alone, seconds_solve SVDSetUp + SVDSolve (each between barriers, timed with
 * MPI_Wtime); sigma holds the converged values, largest first (at most k).
 */
#include <slepcsvd.h>
#include <sys/resource.h>

int main(int argc, char** argv) {
  char file[PETSC_MAX_PATH_LEN] = "";
  PetscBool has_file = PETSC_FALSE;
  PetscInt k = 100;
  PetscReal tol = 1e-6;
  PetscMPIInt rank, size;
  Mat A;
  SVD svd;
  PetscViewer viewer;

  PetscCall(SlepcInitialize(&argc, &argv, NULL, NULL));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-file", file, sizeof file, &has_file));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-k", &k, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-tol", &tol, NULL));
  PetscCheck(has_file, PETSC_COMM_WORLD, PETSC_ERR_USER, "usage: slepc_svd -file X.petsc [-k 100] [-tol 1e-6]");
  PetscCheck(k >= 1, PETSC_COMM_WORLD, PETSC_ERR_USER, "-k must be >= 1");
  PetscCheck(tol > 0, PETSC_COMM_WORLD, PETSC_ERR_USER, "-tol must be > 0");

  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  double start = MPI_Wtime();
  PetscCall(PetscViewerBinaryOpen(PETSC_COMM_WORLD, file, FILE_MODE_READ, &viewer));
  PetscCall(MatCreate(PETSC_COMM_WORLD, &A));
  PetscCall(MatSetType(A, MATAIJ));
  PetscCall(MatLoad(A, viewer));
  PetscCall(PetscViewerDestroy(&viewer));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  const double seconds_load = MPI_Wtime() - start;
  PetscInt rows, cols;
  MatInfo info;
  PetscCall(MatGetSize(A, &rows, &cols));
  PetscCall(MatGetInfo(A, MAT_GLOBAL_SUM, &info));

  PetscCall(SVDCreate(PETSC_COMM_WORLD, &svd));
  PetscCall(SVDSetOperators(svd, A, NULL));
  PetscCall(SVDSetType(svd, SVDTRLANCZOS));
  PetscCall(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
  PetscCall(SVDSetDimensions(svd, k, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SVDSetTolerances(svd, tol / 2, PETSC_DEFAULT));  /* linsim's t on sigma^2 is t/2 on sigma */
  PetscCall(SVDSetFromOptions(svd));

  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  start = MPI_Wtime();
  PetscCall(SVDSetUp(svd));
  PetscCall(SVDSolve(svd));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  const double seconds_solve = MPI_Wtime() - start;

  PetscInt nconv, its;
  PetscReal tol_used;
  PetscInt max_it;
  SVDType type;
  PetscCall(SVDGetConverged(svd, &nconv));
  PetscCall(SVDGetIterationNumber(svd, &its));
  PetscCall(SVDGetTolerances(svd, &tol_used, &max_it));
  PetscCall(SVDGetType(svd, &type));

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double mine = (double)usage.ru_maxrss / 1024.0, *rss = NULL;
  if (rank == 0) PetscCall(PetscMalloc1(size, &rss));
  PetscCallMPI(MPI_Gather(&mine, 1, MPI_DOUBLE, rss, 1, MPI_DOUBLE, 0, PETSC_COMM_WORLD));

  /* SVDGetSingularTriplet is collective (it may build the vectors): every rank calls it. */
  const PetscInt shown = nconv < k ? nconv : k;
  PetscReal* sigma;
  PetscCall(PetscMalloc1(shown > 0 ? shown : 1, &sigma));
  for (PetscInt i = 0; i < shown; ++i) PetscCall(SVDGetSingularTriplet(svd, i, &sigma[i], NULL, NULL));
  if (rank == 0) {
    printf("{\"seconds_load\": %.3f, \"seconds_solve\": %.3f, \"nconv\": %d, \"sigma\": [", seconds_load,
           seconds_solve, (int)nconv);
    for (PetscInt i = 0; i < shown; ++i) printf("%s%.17g", i ? ", " : "", (double)sigma[i]);
    printf("], \"its\": %d, \"ranks\": %d, \"rows\": %d, \"cols\": %d, \"nnz\": %.0f, \"tol_sigma\": %g, "
           "\"type\": \"%s\", \"peak_rss_mb\": [",
           (int)its, (int)size, (int)rows, (int)cols, (double)info.nz_used, (double)tol_used, type);
    for (int r = 0; r < size; ++r) printf("%s%.0f", r ? ", " : "", rss[r]);
    printf("]}\n");
    fflush(stdout);
    PetscCall(PetscFree(rss));
  }
  PetscCall(PetscFree(sigma));
  PetscCall(SVDDestroy(&svd));
  PetscCall(MatDestroy(&A));
  PetscCall(SlepcFinalize());
  return 0;
}
