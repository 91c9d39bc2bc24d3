#!/bin/sh
# One-shot job of deploy/compose.yaml (image minio/mc): the attachments bucket, private, and the homecare
# service's own key pair whose policy reaches only that bucket. Safe to run again (each step is idempotent).
set -eu
bucket=${ATTACHMENTS_BUCKET:?ATTACHMENTS_BUCKET is not set}
secret() { cat "/run/secrets/$1"; }

mc alias set store http://minio:9000 "$(secret minio_root_user)" "$(secret minio_root_password)" >/dev/null
mc mb --ignore-existing "store/$bucket"
mc anonymous set none "store/$bucket"

policy=$(mktemp)
cat >"$policy" <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
     "Resource": ["arn:aws:s3:::$bucket"]},
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts"],
     "Resource": ["arn:aws:s3:::$bucket/*"]}
  ]
}
POLICY
mc admin policy create store yiyang-attachments "$policy"
rm -f "$policy"

user=$(secret attachments_access_key_id)
mc admin user add store "$user" "$(secret attachments_secret_access_key)"
# attaching twice is an error for mc: attach only when the user does not have the policy yet
if ! mc admin user info store "$user" | grep -q 'yiyang-attachments'; then
  mc admin policy attach store yiyang-attachments --user "$user"
fi
echo "bucket $bucket ready"
