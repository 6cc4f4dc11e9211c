package org.jkvm.hypervisor;

/** One model-specific register: struct kvm_msr_entry. */
public record MsrEntry(int index, long value) {}
