/**
 * Four-eyes approvals (DESIGN §4) as pure code. Who requested a change and who approved it is written by
 * the API server itself (k8s/admission): {@code safety.marketintel.io/requested-by} and one line
 * {@code "<username> <token>"} per approval in {@code safety.marketintel.io/approvals}. This package binds
 * approvals to the exact change ({@link io.marketintel.safety.approval.ApprovalToken}) and decides which
 * count ({@link io.marketintel.safety.approval.ApprovalCount}).
 */
package io.marketintel.safety.approval;
