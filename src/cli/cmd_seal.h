/* cinfer seal: encrypt a model into a sealed bundle, key held by broker(s). */
#ifndef CI_CMD_SEAL_H
#define CI_CMD_SEAL_H

int ci_cmd_seal(int argc, char **argv);

#endif
