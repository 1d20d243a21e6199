# Build a looklook module out of tree.  A module's whole Makefile:
#
#   MODULE = hello
#   SRCS   = hello.c
#   LIBS   =               # extra libraries, if any
#   include $(shell pkg-config --variable=pkgdatadir looklook)/looklook-module.mk
#
# `make install` writes a temp file and renames it over the old module, so
# running workers keep their mapping and the next reload loads the new code.

PKG_CONFIG ?= pkg-config
LL_CFLAGS  := $(shell $(PKG_CONFIG) --cflags looklook)
LL_MODDIR  ?= $(shell $(PKG_CONFIG) --variable=moduledir looklook)
CFLAGS     ?= -O2 -g
override CFLAGS  += -std=gnu11 -Wall -Wextra -fPIC -fvisibility=hidden $(LL_CFLAGS)
override LDFLAGS += -shared -Wl,-z,now

OBJS = $(SRCS:.c=.o)

all: $(MODULE).so

$(MODULE).so: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

install: $(MODULE).so
	mkdir -p $(DESTDIR)$(LL_MODDIR)
	install -m 0755 $(MODULE).so $(DESTDIR)$(LL_MODDIR)/.$(MODULE).so.tmp
	mv -f $(DESTDIR)$(LL_MODDIR)/.$(MODULE).so.tmp $(DESTDIR)$(LL_MODDIR)/$(MODULE).so

clean:
	rm -f $(OBJS) $(MODULE).so

.PHONY: all install clean
