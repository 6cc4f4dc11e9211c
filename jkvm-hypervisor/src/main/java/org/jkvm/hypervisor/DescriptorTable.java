package org.jkvm.hypervisor;

/** GDTR or IDTR: struct kvm_dtable. */
public record DescriptorTable(long base, int limit) {}
