#!/bin/sh
# Seed COPILOT_HOME (a volume) with the knowledge index built into the image, then run `copilot ARGS`.
# Only entries missing from the volume are copied, so an index or store already there is never touched.
set -eu
home="${COPILOT_HOME:-/data}"
seed="${COPILOT_SEED_HOME:-/opt/spark-copilot/seed}"
mkdir -p "$home"
if [ -d "$seed" ]; then
    for item in "$seed"/* "$seed"/.[!.]*; do
        [ -e "$item" ] || continue
        name=$(basename "$item")
        if [ ! -e "$home/$name" ]; then
            cp -R "$item" "$home/.$name.seeding"
            mv "$home/.$name.seeding" "$home/$name"
        fi
    done
fi
exec copilot "$@"
