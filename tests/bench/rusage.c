/* The bench's launcher: runs CMD RUNS times (stdin, stdout and stderr on
 * /dev/null) and prints, one line a run, its CPU time (user + system, ms),
 * peak RSS (KiB) and wall time (ms), from wait4(). In C and static, because
 * Linux keeps the parent's peak RSS across fork and exec: a small launcher
 * leaves the figure to the program measured.
 *   usage: rusage RUNS CMD [ARG...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rusage RUNS CMD [ARG...]\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  for (int i = 0; i < runs; ++i) {
    double start = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
      perror("rusage");
      return 1;
    }
    double wall = now_ms() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
      fprintf(stderr, "rusage: %s ended with status %d\n", argv[2], status);
      return 1;
    }
    double cpu = ru.ru_utime.tv_sec * 1000.0 + ru.ru_utime.tv_usec / 1000.0 +
                 ru.ru_stime.tv_sec * 1000.0 + ru.ru_stime.tv_usec / 1000.0;
    printf("%.3f %ld %.3f\n", cpu, ru.ru_maxrss, wall);
  }
  return 0;
}
