/*
 * PID 1 of the qemu-system capture test (cross/qemu/system-test.sh).
 *
 * The initramfs holds this init, the static pktstat under test (/pktstat), the virtio-net
 * modules of the booted kernel (/modules/NAME.ko, loaded in the order of /modules/order) and the
 * pktstat arguments (/args, one per line) and environment (/env, NAME=VALUE per line). The init loads the modules, brings lo and eth0 up,
 * runs pktstat with its stdout/stderr on the console, reports how it ended and what eth0
 * received, then powers the machine off. It never returns: PID 1 exiting panics the kernel.
 *
 * Console markers the host side waits for (each on a line of its own):
 *   PKTSTAT-INIT: capturing     pktstat has been running for a second: inject frames now
 *   PKTSTAT-INIT: exit N        pktstat's exit status (or "signal N")
 *   PKTSTAT-INIT: rx_packets N  eth0's receive counter from sysfs
 *   PKTSTAT-INIT: error ...     something the init needed failed; the test fails with it
 *
 * Built static for the guest with `zig cc -target <arch>-linux-musl -static -Os`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64

static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    (void)!write(2, line, (size_t)n);
}

static void halt_forever(void)
{
    sync();
    reboot(RB_POWER_OFF);
    /* Power-off refused: never exit (that would panic the kernel); wait to be killed. */
    for (;;)
        pause();
}

static void fail(const char *what)
{
    say("PKTSTAT-INIT: error %s: %s", what, strerror(errno));
    halt_forever();
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void load_modules(void)
{
    FILE *order = fopen("/modules/order", "r");
    if (!order)
        fail("open /modules/order");
    char name[256];
    while (fgets(name, sizeof name, order)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0])
            continue;
        char path[300];
        snprintf(path, sizeof path, "/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            fail(path);
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            fail(path);
        close(fd);
    }
    fclose(order);
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* optional knob (e.g. no IPv6 in this kernel) */
    (void)!write(fd, text, strlen(text));
    close(fd);
}

static void link_up(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail("socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        fail(ifname);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        fail(ifname);
    close(s);
}

static void wait_for_eth0(void)
{
    for (int i = 0; i < 100; i++) {
        if (access("/sys/class/net/eth0", F_OK) == 0)
            return;
        sleep_ms(100);
    }
    errno = ENODEV;
    fail("waiting for eth0");
}

/* Reads `path` (one entry per line) into list[first..], NULL-terminated. */
static void read_lines(const char *path, char *buf, size_t size, char **list, int first)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(path);
    ssize_t n = read(fd, buf, size - 1);
    if (n < 0)
        fail(path);
    close(fd);
    buf[n] = 0;
    int i = first;
    for (char *line = strtok(buf, "\n"); line && i < MAX_ARGS - 1; line = strtok(NULL, "\n"))
        list[i++] = line;
    list[i] = NULL;
}

int main(void)
{
    mkdir("/dev", 0755);
    mkdir("/proc", 0755);
    mkdir("/sys", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int con = open("/dev/console", O_RDWR);
    if (con >= 0) {
        dup2(con, 0);
        dup2(con, 1);
        dup2(con, 2);
        if (con > 2)
            close(con);
    }
    if (mount("proc", "/proc", "proc", 0, NULL) != 0)
        fail("mount /proc");
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0)
        fail("mount /sys");

    load_modules();
    wait_for_eth0();
    /* No IPv6 autoconfiguration chatter on the captured link: only the injected frames. */
    write_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", "1");
    link_up("lo");
    link_up("eth0");

    static char argbuf[4096], envbuf[4096];
    char *argv[MAX_ARGS], *envp[MAX_ARGS];
    argv[0] = "/pktstat";
    read_lines("/args", argbuf, sizeof argbuf, argv, 1);
    read_lines("/env", envbuf, sizeof envbuf, envp, 0);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        execve("/pktstat", argv, envp);
        say("PKTSTAT-INIT: error exec /pktstat: %s", strerror(errno));
        _exit(127);
    }
    sleep_ms(1500);
    say("PKTSTAT-INIT: capturing");

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        say("PKTSTAT-INIT: exit %d", WEXITSTATUS(status));
    else
        say("PKTSTAT-INIT: signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);

    char rx[32] = "?";
    int fd = open("/sys/class/net/eth0/statistics/rx_packets", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, rx, sizeof rx - 1);
        rx[n > 0 ? n : 0] = 0;
        rx[strcspn(rx, "\n")] = 0;
        close(fd);
    }
    say("PKTSTAT-INIT: rx_packets %s", rx);
    halt_forever();
    return 0;
}
