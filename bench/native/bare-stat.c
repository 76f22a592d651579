/* The physical floor: the same lstat calls the prober makes, from a bare C
 * loop with a thread pool, no bookkeeping at all. Paths come one per line on
 * stdin; prints one JSON line per round with wall and CPU milliseconds.
 *   bare-stat <threads> <rounds> < paths */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static char **paths;
static size_t npaths;
static atomic_size_t next;
static atomic_size_t failures;

static void *worker(void *arg) {
  (void)arg;
  struct stat st;
  for (;;) {
    size_t i = atomic_fetch_add(&next, 1);
    if (i >= npaths) return NULL;
    if (lstat(paths[i], &st) != 0) atomic_fetch_add(&failures, 1);
  }
}

static double ms(struct timeval tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; }

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 16;
  int rounds = argc > 2 ? atoi(argv[2]) : 5;
  size_t cap = 1024;
  paths = malloc(cap * sizeof *paths);
  char *line = NULL;
  size_t n = 0;
  ssize_t len;
  while ((len = getline(&line, &n, stdin)) > 0) {
    if (line[len - 1] == '\n') line[len - 1] = 0;
    if (npaths == cap) paths = realloc(paths, (cap *= 2) * sizeof *paths);
    paths[npaths++] = strdup(line);
  }
  pthread_t *tids = calloc(threads, sizeof *tids);
  for (int r = 0; r < rounds; r++) {
    struct rusage r0, r1;
    struct timespec t0, t1;
    getrusage(RUSAGE_SELF, &r0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    atomic_store(&next, 0);
    for (int t = 0; t < threads; t++) pthread_create(&tids[t], NULL, worker, NULL);
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &r1);
    double cpu = ms(r1.ru_utime) + ms(r1.ru_stime) - ms(r0.ru_utime) - ms(r0.ru_stime);
    double wall = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("{\"round\":%d,\"paths\":%zu,\"threads\":%d,\"wallMs\":%.3f,\"cpuMs\":%.3f,\"failures\":%zu}\n", r, npaths, threads,
           wall, cpu, atomic_load(&failures));
    fflush(stdout);
  }
  return 0;
}
