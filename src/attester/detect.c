/*
 * Platform auto-detection: which TEE's guest interface this process sees.
 * Device nodes first (each names its TEE), then the configfs-tsm provider.
 * Never answers SIM: running simulated is always the caller's choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attester/tsm.h"
#include "cinfer/attester_snp.h"

static int
dev_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return 0;
	return stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISREG(st.st_mode));
}

enum cinfer_platform
cinfer_attester_detect(const struct cinfer_detect_opts *o)
{
	static const struct {
		const char *dev;
		enum cinfer_platform p;
	} devs[] = {
		{ "sev-guest", CINFER_PLATFORM_SNP },
		{ "tdx_guest", CINFER_PLATFORM_TDX },
		{ "nsm", CINFER_PLATFORM_NITRO },
	};
	static const struct {
		const char *provider;
		enum cinfer_platform p;
	} providers[] = {
		{ "sev_guest", CINFER_PLATFORM_SNP },
		{ "tdx_guest", CINFER_PLATFORM_TDX },
		{ "arm_cca_guest", CINFER_PLATFORM_CCA },
	};
	const char *env = getenv("CINFER_DEV_DIR");
	const char *dev_dir = o != NULL && o->dev_dir != NULL ? o->dev_dir :
	    env != NULL && env[0] != '\0' ? env : "/dev";
	const char *tsm_root = o != NULL ? o->tsm_root : NULL;
	char provider[64];

	for (size_t i = 0; i < CI_ARRAY_LEN(devs); i++)
		if (dev_exists(dev_dir, devs[i].dev))
			return devs[i].p;
	if (!ci_tsm_available(tsm_root) ||
	    ci_tsm_provider(tsm_root, provider, sizeof(provider), NULL) != 0)
		return CINFER_PLATFORM_NONE;
	for (size_t i = 0; i < CI_ARRAY_LEN(providers); i++)
		if (strcmp(provider, providers[i].provider) == 0)	/* public */
			return providers[i].p;
	return CINFER_PLATFORM_NONE;
}
