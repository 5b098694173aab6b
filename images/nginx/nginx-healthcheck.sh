#!/bin/bash
# healthy when nginx itself answers (independent of the web tasks)
exec 3<>/dev/tcp/127.0.0.1/80 || exit 1
printf 'GET /nginx-health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ "$status" == *" 200 "* ]]
