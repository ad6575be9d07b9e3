# cmake -DSRC=<seed dir> -DDST=<work dir> -P copy_corpus.cmake
# A fresh writable copy of a seed corpus for one libFuzzer run, so that runs
# start from the seeds in the source tree and never write into it.
file(REMOVE_RECURSE "${DST}")
file(MAKE_DIRECTORY "${DST}")
file(COPY "${SRC}/" DESTINATION "${DST}")
