#!/bin/bash
# S3 gateway liveness: it answers HTTP on 8333 (any status; an anonymous request is refused with 403).
exec 3<>/dev/tcp/127.0.0.1/8333 || exit 1
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == HTTP/1.?" "[0-9][0-9][0-9]* ]]
