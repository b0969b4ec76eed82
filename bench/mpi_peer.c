/* MPI send/recv between two ranks on this machine (Open MPI's shared-memory
 * transport), rank 0 sending to rank 1 at the sizes bench_queue_throughput
 * compares (bench/peer_common.h), one sample of each per run: the highest
 * anchor of the queue figures.
 *
 *   mpiexec -n 2 bench_mpi_peer [scale]
 *
 * (As root, Open MPI wants OMPI_ALLOW_RUN_AS_ROOT=1 and
 * OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.) Built only where an MPI is found
 * (Debian: libopenmpi-dev; mpiexec is in openmpi-bin). The command line is
 * read before MPI_Init, so --help and nonsense are answered without
 * mpiexec. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

static const char usage[] =
    "Usage: bench_mpi_peer [scale]\n"
    "       (run it as: mpiexec -n 2 bench_mpi_peer [scale])\n"
    "\n"
    "MPI_Send -> MPI_Recv between 2 ranks on this machine, with 64-byte and\n"
    "1 MiB messages: a peer of bench_queue_throughput's 1 -> 1 figures. Each\n"
    "figure moves about scale x 0.25 s of messages (default scale 1). As root,\n"
    "Open MPI wants OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.\n"
    "Prints '@ queue.FIGURE mpi VALUE msg/s' lines for scripts/bench, which runs\n"
    "it several times.\n";

/* Messages a second at each peer size on the development VM. */
static const double rates[PEER_SIZES] = {8e6, 1.2e4};

static double one_round(int rank, uint64_t count, int size, char *buf) {
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  char ack = 0;
  for (uint64_t i = 0; i < count; i++) {
    if (rank == 0)
      MPI_Send(buf, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
    else
      MPI_Recv(buf, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  /* Rank 0's sends may be buffered: time until rank 1 has them all. */
  if (rank == 0)
    MPI_Recv(&ack, 1, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  else
    MPI_Send(&ack, 1, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
  return (double)count / (MPI_Wtime() - t0);
}

int main(int argc, char **argv) {
  double scale = bench_scale(argc, argv, 1, usage);
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks != 2) {
    if (rank == 0) fprintf(stderr, "bench_mpi_peer: run it as mpiexec -n 2\n");
    MPI_Finalize();
    return 2;
  }
  char *buf = calloc(1, (size_t)peer_sizes[PEER_SIZES - 1]);
  if (!buf) MPI_Abort(MPI_COMM_WORLD, 1);
  if (rank == 0) {
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    char *nl = strchr(version, '\n');
    if (nl) *nl = '\0';
    printf("# %s, MPI_Send -> MPI_Recv between 2 ranks\n", version);
  }
  for (int i = 0; i < PEER_SIZES; i++) {
    double v = one_round(rank, peer_messages(rates[i], scale), (int)peer_sizes[i], buf);
    if (rank == 0) peer_report("mpi", peer_sizes[i], v);
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
