/* Access: the admin socket is usable by its owner only, and the read-only socket the
 * bridge and operators use refuses every change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void setup(void) { h_gateway_start(&(struct h_opts){.without_controller = 1}); }

static void teardown(void) { h_gateway_stop(); }

START_TEST(test_admin_socket_mode)
{
	struct stat st;
	ck_assert_msg(stat(H.admin_sock, &st) == 0, "stat %s: %s", H.admin_sock, strerror(errno));
	ck_assert_msg((st.st_mode & 0777) == 0600, "admin.sock has mode %o, not 600", st.st_mode & 0777);
	ck_assert_uint_eq(st.st_uid, geteuid());
	/* The master's CLI can reload and reach every worker: as closed as admin.sock. */
	char master[H_PATH_MAX + 16];
	snprintf(master, sizeof(master), "%s/master.sock", H.run_dir);
	ck_assert_msg(stat(master, &st) == 0, "stat %s: %s", master, strerror(errno));
	ck_assert_msg((st.st_mode & 0777) == 0600, "master.sock has mode %o, not 600", st.st_mode & 0777);
}
END_TEST

/* Connects to path as user nobody: 0 when the connection was accepted, else the errno. */
static int connect_as_nobody(const char *path)
{
	pid_t pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(100);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		_exit(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ? (errno & 0x7f) : 0);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 100, "could not become nobody");
	return WEXITSTATUS(status);
}

/* Another user (nobody) cannot even connect to the admin socket, while the same user reaches
 * the stats socket in the same directory (so the socket's mode is what stops it). */
START_TEST(test_admin_socket_other_user)
{
	if (geteuid() != 0) {
		printf("access: not root, the other-user check is skipped\n");
		return;
	}
	/* The temp dirs are 0700: let others through them, as a run directory shared with the
	 * bridge's user would. */
	ck_assert_int_eq(chmod(H.dir, 0711), 0);
	ck_assert_int_eq(chmod(H.run_dir, 0711), 0);
	ck_assert_msg(connect_as_nobody(H.stats_sock) == 0, "nobody cannot reach stats.sock: the check proves nothing");
	int err = connect_as_nobody(H.admin_sock);
	ck_assert_msg(err == EACCES, "user nobody connecting to admin.sock: %s", err ? strerror(err) : "accepted");
	char master[H_PATH_MAX + 16];
	snprintf(master, sizeof(master), "%s/master.sock", H.run_dir);
	err = connect_as_nobody(master);
	ck_assert_msg(err == EACCES, "user nobody connecting to master.sock: %s", err ? strerror(err) : "accepted");
}
END_TEST

/* The stats socket reads, and refuses every change the controller makes on the admin socket. */
START_TEST(test_stats_socket_read_only)
{
	const char *changes[] = {
		"add server mcs/x 127.0.0.1:9 check",
		"set server mcs/x state drain",
		"del server mcs/x",
		"disable server mcs/x",
		"shutdown sessions server mcs/x",
		"commit ssl cert /x.pem",
		"set table mcs_tls key ::ffff:127.0.0.1 data.gpt0 1",
	};
	char *info = h_hap_cmd(H.stats_sock, "show info");
	ck_assert_msg(info != NULL && strstr(info, "Pid:") != NULL, "stats.sock cannot read: %s", h_error());
	free(info);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		char *reply = h_hap_cmd(H.stats_sock, changes[i]);
		ck_assert_msg(reply != NULL, "%s: %s", changes[i], h_error());
		ck_assert_msg(strstr(reply, "Permission denied") != NULL, "stats.sock accepted \"%s\": %s", changes[i],
			      reply);
		free(reply);
	}
	struct h_srv v[H_MAX_SERVERS];
	ck_assert_int_eq(h_servers(H.stats_sock, v, H_MAX_SERVERS), 0);

	/* `clear table` answers nothing at level user, and must change nothing either. */
	char err[256];
	struct h_client *c = h_tls_open(H.mcs_port, 0, 0, err, sizeof(err));
	h_client_close(c);
	char *before = h_hap_cmd(H.admin_sock, "show table mcs_tls");
	ck_assert_msg(before != NULL && strstr(before, "key=::ffff:127.0.0.1") != NULL, "no tracked address: %s",
		      before ? before : h_error());
	free(h_hap_cmd(H.stats_sock, "clear table mcs_tls"));
	char *after = h_hap_cmd(H.admin_sock, "show table mcs_tls");
	ck_assert_msg(after != NULL && strstr(after, "key=::ffff:127.0.0.1") != NULL,
		      "clear table on stats.sock removed a tracked address");
	free(before);
	free(after);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("access");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_admin_socket_mode);
	tcase_add_test(tc, test_admin_socket_other_user);
	tcase_add_test(tc, test_stats_socket_read_only);
	suite_add_tcase(s, tc);
	return h_main(s);
}
