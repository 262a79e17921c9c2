// Parsers for the network tools' outputs: structured data for the doctor.
export * from './common';
export * from './iptables';
export * from './ip';
export * from './bridge';
export * from './ss';
export * from './conntrack';
export * from './ipvsadm';
