#!/bin/bash
# HAProxy's local monitor URI answers 200 while the backend has a primary UP, 503 otherwise.
exec 3<>/dev/tcp/127.0.0.1/8405 || exit 1
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
IFS= read -r -t 3 status <&3 || exit 1
[[ $status == HTTP/1.?" 200"* ]]
