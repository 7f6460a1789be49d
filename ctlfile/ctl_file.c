/* controller.json's table of keys, and the one encoder and decoder of its values (jansson). */
#include "ctl_file.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CTL_FILE_ROW(key, kind, need, metric, type, help)                                                              \
	{#key, CTL_FILE_##kind, CTL_FILE_##need, offsetof(struct ctl_file, key), metric, type, help},
const struct ctl_file_field ctl_file_fields[] = {CTL_FILE_FIELDS(CTL_FILE_ROW)};
#undef CTL_FILE_ROW
const size_t ctl_file_n_fields = sizeof(ctl_file_fields) / sizeof(ctl_file_fields[0]);

#define CTL_FILE_AT(f, field, type) ((type *)((char *)(f) + (field)->offset))
#define CTL_FILE_GET(f, field, type) (*(const type *)((const char *)(f) + (field)->offset))

unsigned long long ctl_file_number(const struct ctl_file *f, const struct ctl_file_field *field)
{
	switch (field->kind) {
	case CTL_FILE_BOOL:
		return (unsigned)CTL_FILE_GET(f, field, int);
	case CTL_FILE_INT:
		return (unsigned long long)CTL_FILE_GET(f, field, long long);
	case CTL_FILE_KNOWN:
		return CTL_FILE_GET(f, field, long long) < 0 ? 0
							     : (unsigned long long)CTL_FILE_GET(f, field, long long);
	case CTL_FILE_COUNT:
		return CTL_FILE_GET(f, field, unsigned long long);
	case CTL_FILE_TEXT:
		break;
	}
	return 0;
}

/* The JSON value of one field; NULL for a KNOWN field that is unknown, or on failure. */
static json_t *ctl_file_value(const struct ctl_file *f, const struct ctl_file_field *field)
{
	switch (field->kind) {
	case CTL_FILE_BOOL:
		return json_boolean(CTL_FILE_GET(f, field, int));
	case CTL_FILE_INT:
		return json_integer(CTL_FILE_GET(f, field, long long));
	case CTL_FILE_KNOWN:
		return CTL_FILE_GET(f, field, long long) < 0 ? NULL : json_integer(CTL_FILE_GET(f, field, long long));
	case CTL_FILE_COUNT:
		return json_integer((json_int_t)CTL_FILE_GET(f, field, unsigned long long));
	case CTL_FILE_TEXT:
		return json_string((const char *)f + field->offset);
	}
	return NULL;
}

json_t *ctl_file_to_json(const struct ctl_file *f)
{
	json_t *root = json_object();
	for (size_t i = 0; root != NULL && i < ctl_file_n_fields; i++) {
		const struct ctl_file_field *field = &ctl_file_fields[i];
		if (field->kind == CTL_FILE_KNOWN && CTL_FILE_GET(f, field, long long) < 0)
			continue;
		if (json_object_set_new(root, field->key, ctl_file_value(f, field)) == -1) {
			json_decref(root);
			root = NULL;
		}
	}
	return root;
}

/* Reads one present value into f: 0, or -1 when it is of the wrong type or negative. */
static int ctl_file_read(json_t *v, struct ctl_file *f, const struct ctl_file_field *field)
{
	if (field->kind == CTL_FILE_BOOL) {
		if (!json_is_boolean(v))
			return -1;
		*CTL_FILE_AT(f, field, int) = json_is_true(v);
		return 0;
	}
	if (field->kind == CTL_FILE_TEXT) {
		if (!json_is_string(v))
			return -1;
		snprintf(CTL_FILE_AT(f, field, char), CTL_FILE_TEXT_MAX, "%s", json_string_value(v));
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	if (field->kind == CTL_FILE_COUNT)
		*CTL_FILE_AT(f, field, unsigned long long) = (unsigned long long)json_integer_value(v);
	else
		*CTL_FILE_AT(f, field, long long) = (long long)json_integer_value(v);
	return 0;
}

int ctl_file_from_json(const json_t *root, struct ctl_file *f, const char **bad)
{
	memset(f, 0, sizeof(*f));
	/* A key that is there but wrong is named before one that is missing: it says more. */
	for (size_t i = 0; i < ctl_file_n_fields; i++) {
		const struct ctl_file_field *field = &ctl_file_fields[i];
		json_t *v = json_object_get(root, field->key);
		*bad = field->key;
		if (v == NULL && field->kind == CTL_FILE_KNOWN)
			*CTL_FILE_AT(f, field, long long) = -1;
		if (v != NULL && ctl_file_read(v, f, field) == -1)
			return -1;
	}
	for (size_t i = 0; i < ctl_file_n_fields; i++) {
		*bad = ctl_file_fields[i].key;
		if (ctl_file_fields[i].need == CTL_FILE_REQ && json_object_get(root, *bad) == NULL)
			return -1;
	}
	return 0;
}
