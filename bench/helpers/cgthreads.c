/*
 * cgthreads DIR COUNT PREFIX [FIRST]: COUNT live "container leaders" without COUNT processes.
 *
 * cgroup v1 lets every thread of one process sit in its own cgroup of a hierarchy (write the tid to
 * the cgroup's "tasks" file, not cgroup.procs), and /proc/<tid>/cgroup and /proc/<tid>/stat work for
 * tids. For i in 0..COUNT-1 this makes DIR/PREFIX<i> (DIR is a cgroup dir of a v1 hierarchy, e.g. the
 * cpuset one, with cgroup.clone_children = 1 so the children inherit cpus and mems), starts a thread
 * that writes its own tid to DIR/PREFIX<i>/tasks, and prints "PREFIX<i> TID". Then it prints "ready"
 * and sleeps until killed. The caller kills it by pid and removes the dirs.
 *
 * Keep COUNT small (tools/bench.sh uses 100 per process): /proc/<tid>/stat of a thread reports the whole
 * thread group and the kernel sums over every thread to write it, so interopd's liveness check would cost
 * O(threads of the helper) per container, a cost real containers (one process each) never have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct slot {
    char dir[4096];
    pid_t tid;
    int err;
    pthread_mutex_t lock;
    pthread_cond_t done;
    int ready;
};

static void *leader(void *arg)
{
    struct slot *s = arg;
    char path[4200];
    pid_t tid = (pid_t)syscall(SYS_gettid);
    snprintf(path, sizeof path, "%s/tasks", s->dir);
    FILE *f = fopen(path, "w");
    int err = 0;
    if (f == NULL || fprintf(f, "%d\n", tid) < 0) {
        err = errno;
    }
    if (f != NULL && fclose(f) != 0) {
        err = errno;
    }
    pthread_mutex_lock(&s->lock);
    s->tid = tid;
    s->err = err;
    s->ready = 1;
    pthread_cond_signal(&s->done);
    pthread_mutex_unlock(&s->lock);
    for (;;) {
        pause();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: cgthreads DIR COUNT PREFIX [FIRST]\n");
        return 2;
    }
    const char *dir = argv[1];
    long count = strtol(argv[2], NULL, 10);
    const char *prefix = argv[3];
    long first = argc == 5 ? strtol(argv[4], NULL, 10) : 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    struct slot s;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.done, NULL);
    for (long i = first; i < first + count; i++) {
        snprintf(s.dir, sizeof s.dir, "%s/%s%ld", dir, prefix, i);
        if (mkdir(s.dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "cgthreads: mkdir %s: %s\n", s.dir, strerror(errno));
            return 1;
        }
        s.ready = 0;
        pthread_t t;
        int rc = pthread_create(&t, &attr, leader, &s);
        if (rc != 0) {
            fprintf(stderr, "cgthreads: thread %ld: %s\n", i, strerror(rc));
            return 1;
        }
        pthread_mutex_lock(&s.lock);
        while (!s.ready) {
            pthread_cond_wait(&s.done, &s.lock);
        }
        pthread_mutex_unlock(&s.lock);
        if (s.err != 0) {
            fprintf(stderr, "cgthreads: %s/tasks: %s\n", s.dir, strerror(s.err));
            return 1;
        }
        printf("%s%ld %d\n", prefix, i, (int)s.tid);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        pause();
    }
}
